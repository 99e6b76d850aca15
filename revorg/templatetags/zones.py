"""`{{ moment|when }}` writes a time in the viewer's zone, `{{ moment|when:zone }}` in another
(a zone or its name), always followed by the zone's name; `{% timezone_datalist %}` is the
searchable list every time zone picker (`<input list="timezones">`) uses."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from revorg.zones import moment_format, timezone_names, zone_get

register = template.Library()


@register.filter
def when(value, zone=None):
    if not isinstance(value, datetime):
        return "—" if value in (None, "") else value
    if zone is None or zone == "":
        zone = timezone.get_current_timezone()
    elif isinstance(zone, str):
        zone = zone_get(zone)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, zone)
    return moment_format(value, zone)


@register.simple_tag
def timezone_datalist():
    options = format_html_join("", '<option value="{}">', ((name,) for name in timezone_names()))
    return format_html('<datalist id="timezones">{}</datalist>', options)
