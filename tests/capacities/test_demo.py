from capacities.demo import seed_demo_capacities
from capacities.models import Capacity
from tests.factories import MemberFactory


def test_demo_gives_aes_a_daily_limit_once(workspace):
    ae = MemberFactory(workspace=workspace, role="AE")
    MemberFactory(workspace=workspace, role="SDR")
    seed_demo_capacities(workspace)
    seed_demo_capacities(workspace)
    assert list(Capacity.objects.values_list("member_id", "period", "limit")) == [
        (ae.pk, "day", 10)
    ]
