"""Admin building blocks shared by the apps."""

from django.contrib import admin

from common.credential_names import credential_name_fields, validate_credential_name


class SyncedDataAdmin(admin.ModelAdmin):
    """Data written by syncs and checks: visible in the admin, never edited there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SyncedDataInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CredentialNamesForm:
    """A ModelForm mixin: every `*_env` field obeys the credential-name rule."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in credential_name_fields(self._meta.model):
            field = self.fields.get(name)
            if field is not None:
                field.validators.append(validate_credential_name)


def secret_routing_fields(model, declared) -> list[str]:
    """`declared` plus every field of `model` that names a credential variable (`*_env`) or a
    trust bundle (`*ca_bundle`): a field added later is covered without being listed."""
    automatic = [
        f.name
        for f in model._meta.concrete_fields
        if f.name.endswith("_env") or f.name.endswith("ca_bundle")
    ]
    return list(dict.fromkeys([*declared, *automatic]))


class SuperuserDecidesSecretsAdmin(admin.ModelAdmin):
    """Only superusers edit what chooses a secret or where it is sent (README "Security").

    For everyone else those fields are read-only, and form fields that set a secret
    (`secret_form_fields`, e.g. a new password) are not part of the form at all, so a
    crafted POST cannot set them either.
    """

    secret_routing: tuple[str, ...] = ()
    secret_form_fields: tuple[str, ...] = ()

    def superuser_only_fields(self) -> list[str]:
        return secret_routing_fields(self.model, self.secret_routing)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        return readonly + [f for f in self.superuser_only_fields() if f not in readonly]

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if request.user.is_superuser:
            return fields
        return [f for f in fields if f not in self.secret_form_fields]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if not request.user.is_superuser:
            # Declared form fields survive `fields=`/`exclude=`: drop them from this class.
            for name in self.secret_form_fields:
                form.base_fields.pop(name, None)
                form.declared_fields.pop(name, None)
        return form
