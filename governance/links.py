"""The links an invitation e-mail carries, absolute, built from the request's host."""

from django.urls import reverse


def invitation_links(request) -> dict:
    """`set_password_link` (uid, token) -> URL of the set-password page; `login_link`."""

    def set_password_link(uid: str, token: str) -> str:
        return request.build_absolute_uri(
            reverse("set-password", kwargs={"uidb64": uid, "token": token})
        )

    return {
        "set_password_link": set_password_link,
        "login_link": request.build_absolute_uri(reverse("login")),
    }
