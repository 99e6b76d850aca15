"""`Authorization: Bearer <key>` for plays and scripts; the browser uses the session instead."""

from rest_framework import authentication, exceptions

from . import selectors, services


class ApiKeyPrincipal:
    """Stands in for request.user when a key authenticates: it is no Django user."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, api_key):
        self.api_key = api_key

    def __str__(self) -> str:
        return f"api key {self.api_key.prefix}"

    def get_username(self) -> str:
        return str(self)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <key>'.")
        try:
            raw_key = header[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("API key contains invalid characters.") from exc
        api_key = selectors.api_key_get_active(raw_key=raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        services.api_key_touch(api_key=api_key)
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'
