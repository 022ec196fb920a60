"""`manage.py fetch_ca_bundle aws [--url URL] [--output PATH]`: install a provider's CA bundle."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from checker.ca_bundle import PROVIDER_BUNDLE_URLS, BundleError, download, install, parse_bundle


class Command(BaseCommand):
    help = "Download a provider's CA trust bundle, check it, install it and list its CAs."

    def add_arguments(self, parser):
        parser.add_argument("provider", choices=["aws", "aliyun"])
        parser.add_argument("--url", help="download from here instead of the provider's URL")
        parser.add_argument(
            "--output",
            help="where to install it (default: TLSPOSTURE_CA_BUNDLE_<PROVIDER>, else "
            "$TLSPOSTURE_DATA_DIR/ca/<provider>-bundle.pem)",
        )
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args, provider, url, output, timeout, **options):
        url = url or PROVIDER_BUNDLE_URLS.get(provider)
        if not url:
            raise CommandError(
                "ApsaraDB issues its CA per instance: download it from the console (Data "
                "Security > SSL > Download CA Certificate) or with `aliyun rds "
                "DescribeDBInstanceSSL`, then run this command with --url, or set "
                "TLSPOSTURE_CA_BUNDLE_ALIYUN to the file"
            )
        target = Path(output or self._default_output(provider))
        try:
            data = download(url, timeout=timeout)
            authorities = parse_bundle(data)
            install(data, target)
        except BundleError as exc:
            raise CommandError(f"{exc}; nothing was written") from None
        except OSError as exc:
            raise CommandError(f"cannot write {target}: {exc.strerror}; nothing written") from None
        self.stdout.write(f"installed {target} from {url}: {len(authorities)} CAs")
        for ca in sorted(authorities, key=lambda a: a.not_after):
            marker = "  EXPIRED" if ca.expired() else ""
            self.stdout.write(
                f"  {ca.not_after:%Y-%m-%d}  {ca.days_left():>6} days  {ca.subject}{marker}"
            )
        variable = f"TLSPOSTURE_CA_BUNDLE_{provider.upper()}"
        if settings.TLSPOSTURE.get(f"CA_BUNDLE_{provider.upper()}") != str(target):
            self.stdout.write(f"use it for every {provider} endpoint with {variable}={target}")

    @staticmethod
    def _default_output(provider: str) -> str:
        configured = settings.TLSPOSTURE.get(f"CA_BUNDLE_{provider.upper()}")
        return configured or str(settings.DATA_DIR / "ca" / f"{provider}-bundle.pem")
