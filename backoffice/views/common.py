from django.contrib import admin
from django.template.response import TemplateResponse


def render_admin(request, template: str, context: dict, *, title, status: int = 200):
    return TemplateResponse(request, template, {**admin.site.each_context(request), "title": title, **context},
                            status=status)
