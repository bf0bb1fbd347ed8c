from oauth2_provider.scopes import BaseScopes

from applications import scopes as catalog


class ApplicationScopes(BaseScopes):
    """An application may ask for its own scopes, and gets all of them when it asks for none."""

    def get_all_scopes(self):
        return catalog.SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return application.scope_list if application is not None else list(catalog.SCOPES)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request)
