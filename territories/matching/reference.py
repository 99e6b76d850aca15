"""The reference evaluator: the spec read literally, every rule in turn (tests compare the
compiled matcher against it)."""

from .. import rules
from .order import _Base


class ReferenceMatcher(_Base):
    """Checks every territory's effective rule: the spec read literally, O(territories)."""

    def rule_candidates(self, fields: dict) -> list[int]:
        """Candidate ids in resolution order."""
        matched = [tid for tid in self.rule_ids if rules.evaluate(self.effective[tid], fields)]
        return sorted(matched, key=self.rank.__getitem__)
