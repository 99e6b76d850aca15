"""Reading a pasted record for "Test a record": JSON or key/value lines, and every line that
cannot be read reported with its number and text, never skipped."""

from territories.record_text import record_text_parse


def test_key_value_lines_read_numbers_booleans_and_lists():
    parsed = record_text_parse(
        "country: FR\nemployees=250\n\n# a comment\nlanguages: [fr, en]\npartner: true\n"
        'tags = ["a", "b"]\nurl: https://acme.com/x'
    )
    assert parsed.errors == []
    assert parsed.fields == {
        "country": "FR",
        "employees": 250,
        "languages": ["fr", "en"],
        "partner": True,
        "tags": ["a", "b"],
        "url": "https://acme.com/x",
    }


def test_json_object_plain_or_as_a_record_with_its_type():
    assert record_text_parse('{"country": "DE", "employees": 9}').fields == {
        "country": "DE",
        "employees": 9,
    }
    parsed = record_text_parse('{"type": "account", "fields": {"domain": "acme.com"}}')
    assert (parsed.record_type, parsed.fields) == ("account", {"domain": "acme.com"})
    wrapped = record_text_parse('{"record": {"type": "lead", "fields": {"state": "CA"}}}')
    assert (wrapped.record_type, wrapped.fields) == ("lead", {"state": "CA"})


def test_lines_that_cannot_be_read_are_reported_with_number_and_text():
    parsed = record_text_parse("country: FR\nno separator here\n= value without key\ncountry=DE")
    assert [(e.line, e.text, e.message) for e in parsed.errors] == [
        (2, "no separator here", "expected key: value or key=value"),
        (3, "= value without key", "expected key: value or key=value"),
        (4, "country=DE", "'country' is already given on line 1"),
    ]


def test_broken_json_names_its_line_and_bad_values_name_their_field():
    broken = record_text_parse('{\n  "country": "FR",\n  "employees": 25x\n}')
    assert [(e.line, e.text) for e in broken.errors] == [(3, '  "employees": 25x')]
    assert broken.errors[0].message.startswith("invalid JSON")
    nested = record_text_parse('{"owner": {"name": "x"}}')
    assert [(e.line, e.text) for e in nested.errors] == [(None, "field.owner")]
    assert record_text_parse("[1, 2]").errors[0].message.startswith("expected key")
    assert record_text_parse("   ").errors[0].message.startswith("no fields")
