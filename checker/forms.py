"""The admin form of a checker profile: the password can be set or cleared, never read.

The password field never renders a value (not even a masked one), and the stored
ciphertext is not on the page either: a stored password is "never displayed again".
"""

from django import forms
from django.core.exceptions import ImproperlyConfigured

from checker.credentials import encrypt_password
from checker.models import CheckerProfile
from common.admin import CredentialNamesForm


class CheckerProfileForm(CredentialNamesForm, forms.ModelForm):
    new_password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted (TLSPOSTURE_SECRET_KEYS) and never shown again. Leave "
        "empty to keep the stored password.",
    )
    clear_password = forms.BooleanField(label="Forget the stored password", required=False)

    class Meta:
        model = CheckerProfile
        fields = [
            "name",
            "match",
            "position",
            "username",
            "password_env",
            "secrets_manager_arn",
            "iam_auth",
            "ca_bundle",
            "connect_host",
            "connect_port",
            "canary_username",
            "canary_password_env",
            "enabled",
        ]

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("new_password")
        referenced = [
            label
            for label, present in (
                ("password_env", cleaned.get("password_env")),
                ("secrets_manager_arn", cleaned.get("secrets_manager_arn")),
                ("iam_auth", cleaned.get("iam_auth")),
            )
            if present
        ]
        if len(referenced) > 1:
            sources = ", ".join(referenced)
            raise forms.ValidationError(f"choose one credential source, not {sources}")
        if password and referenced:
            raise forms.ValidationError(
                f"a stored password and {referenced[0]} exclude each other: choose one"
            )
        if password and cleaned.get("clear_password"):
            raise forms.ValidationError("set a new password or forget it, not both")
        if password:
            try:
                self.instance.password_encrypted = encrypt_password(password)
            except ImproperlyConfigured as exc:
                self.add_error("new_password", str(exc))
        elif cleaned.get("clear_password") or referenced:
            self.instance.password_encrypted = ""
        return cleaned
