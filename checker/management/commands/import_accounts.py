"""Import cloud accounts and checker profiles from a TOML file, idempotently (by name)."""

import tomllib

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from checker.profiles_as_code import import_profiles
from common.as_code import EntryError
from inventory.accounts_as_code import import_accounts


class Command(BaseCommand):
    help = "Create or update accounts ([[account]]) and checker profiles ([[checker]])."

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            help="TOML file, see docs/design.md 'Interfaces that scripts and CI pipelines rely on'",
        )

    def handle(self, *args, **options):
        path = options["file"]
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise CommandError(f"{path} is not valid TOML: {exc}") from None
        unknown = sorted(set(data) - {"account", "checker"})
        if unknown:
            raise CommandError(f"{path}: unknown top-level key(s) {', '.join(unknown)}")
        try:
            with transaction.atomic():  # all of the file or nothing
                accounts = import_accounts(data.get("account", []))
                profiles = import_profiles(data.get("checker", []))
        except EntryError as exc:
            raise CommandError(f"{path}: {exc}") from None
        for kind, result in (("account", accounts), ("checker", profiles)):
            for outcome in ("created", "updated", "unchanged"):
                if result[outcome]:
                    self.stdout.write(f"{kind}s {outcome}: {', '.join(result[outcome])}")
        if accounts["teams created"]:
            self.stdout.write(f"teams created: {', '.join(accounts['teams created'])}")
