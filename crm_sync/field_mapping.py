"""Which CRM field feeds which rule field, per connection (`settings.field_mapping`, rule
field -> CRM field): defaults for each CRM, any custom field added, a default removed by
mapping it to "" (DESIGN §7)."""

import re

DEFAULT_FIELD_MAPPINGS = {
    "salesforce": {
        "country": "BillingCountry",
        "state": "BillingState",
        "postal_code": "BillingPostalCode",
        "city": "BillingCity",
        "industry": "Industry",
        "employees": "NumberOfEmployees",
        "annual_revenue": "AnnualRevenue",
        "domain": "Website",
    },
    "hubspot": {
        "country": "country",
        "state": "state",
        "postal_code": "zip",
        "city": "city",
        "industry": "industry",
        "employees": "numberofemployees",
        "annual_revenue": "annualrevenue",
        "domain": "domain",
    },
}
NUMERIC_RULE_FIELDS = {"employees", "annual_revenue"}
# Names only: they are spliced into SOQL's SELECT list and HubSpot's property lists.
_RULE_FIELD = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CRM_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
MAX_MAPPED_FIELDS = 100


def field_mapping_errors(provider: str, mapping) -> dict[str, list[str]]:
    """Problems keyed by the setting's path (`settings.field_mapping.<rule field>`)."""
    if not isinstance(mapping, dict):
        return {"settings.field_mapping": ["must be an object of rule field → CRM field"]}
    if len(mapping) > MAX_MAPPED_FIELDS:
        return {"settings.field_mapping": [f"at most {MAX_MAPPED_FIELDS} fields"]}
    errors = {}
    for rule_field, crm_field in mapping.items():
        key = f"settings.field_mapping.{rule_field}"
        if not _RULE_FIELD.match(str(rule_field)):
            errors[key] = ["rule fields are lower-case letters, digits and _"]
        elif not isinstance(crm_field, str) or (crm_field and not _CRM_FIELD.match(crm_field)):
            hint = "an Account field" if provider == "salesforce" else "a company property"
            errors[key] = [f'the name of {hint} (letters, digits, _), or "" to drop it']
    return errors


def field_mapping_effective(*, provider: str, settings: dict) -> dict[str, str]:
    """The defaults of the CRM overlaid with the connection's own mapping."""
    mapping = dict(DEFAULT_FIELD_MAPPINGS.get(provider, {}))
    custom = (settings or {}).get("field_mapping") or {}
    if isinstance(custom, dict):
        mapping.update(custom)
    return {rule: crm for rule, crm in mapping.items() if crm}


def field_mapping_apply(*, mapping: dict[str, str], values: dict) -> tuple[dict, str]:
    """A CRM record's values as rule fields, and its domain (from the website's host)."""
    fields = {}
    for rule_field, crm_field in mapping.items():
        value = values.get(crm_field)
        if value is None or value == "":
            continue
        if rule_field in NUMERIC_RULE_FIELDS:
            value = _number(value)
            if value is None:
                continue
        elif rule_field == "domain":
            value = domain_from_website(str(value))
            if not value:
                continue
        elif not isinstance(value, int | float | bool):
            value = str(value)[:1000]
        fields[rule_field] = value
    return fields, str(fields.get("domain", ""))[:255]


def domain_from_website(website: str) -> str:
    """ "https://www.Acme.com/about" -> "acme.com"."""
    host = website.strip().lower()
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", host)
    host = host.split("/", 1)[0].split("?", 1)[0].split("@")[-1].split(":", 1)[0]
    return host.removeprefix("www.")


def _number(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number
