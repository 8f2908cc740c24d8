from django.conf import settings
from django.utils import translation


class StaffLanguageMiddleware:
    """The bank's staff read Simplified Chinese (LANGUAGE_CODE) unless they chose otherwise
    with the language switcher (its cookie). A browser's Accept-Language does not decide a
    staff page's language; the platform API (/api/) keeps Django's usual negotiation."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (not request.path.startswith("/api/")
                and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
