"""`manage.py fetch_ca_bundle aws [--url URL] [--output PATH]`: install a provider's CA bundle.

For aws it installs two: the RDS CAs (DB instances, Aurora clusters) and, next to it, the
Amazon Trust Services roots for RDS Proxy endpoints (from the local trust store)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from checker.ca_bundle import (
    PROVIDER_BUNDLE_URLS,
    PROXY_BUNDLE_NAME,
    BundleError,
    amazon_root_cas,
    download,
    install,
    parse_bundle,
)

FOR_WHAT = {
    "aws": "the RDS CAs, for DB instances and Aurora clusters",
    "aws-proxy": "the Amazon Trust Services roots, for RDS Proxy endpoints (their ACM "
    "certificates chain to these, not to the RDS CAs)",
}


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
        self._report(provider, target, url, authorities)
        if provider == "aws":
            self._install_proxy_bundle(Path(output).parent if output else None)

    def _install_proxy_bundle(self, directory: Path | None) -> None:
        configured = settings.TLSPOSTURE.get("CA_BUNDLE_AWS_PROXY")
        if directory is not None:
            target = directory / PROXY_BUNDLE_NAME
        else:
            target = Path(configured or settings.DATA_DIR / "ca" / PROXY_BUNDLE_NAME)
        try:
            pem, source = amazon_root_cas()
            authorities = parse_bundle(pem)
            install(pem, target)
        except BundleError as exc:
            raise CommandError(f"RDS Proxy bundle: {exc}; it was not written") from None
        except OSError as exc:
            raise CommandError(f"cannot write {target}: {exc.strerror}; not written") from None
        self._report("aws-proxy", target, source, authorities)

    def _report(self, which: str, target: Path, source: str, authorities) -> None:
        what = FOR_WHAT.get(which, "")
        self.stdout.write(
            f"installed {target} from {source}: {len(authorities)} CAs"
            + (f" — {what}" if what else "")
        )
        for ca in sorted(authorities, key=lambda a: a.not_after):
            marker = "  EXPIRED" if ca.expired() else ""
            self.stdout.write(
                f"  {ca.not_after:%Y-%m-%d}  {ca.days_left():>6} days  {ca.subject}{marker}"
            )
        key = f"CA_BUNDLE_{which.upper().replace('-', '_')}"
        if settings.TLSPOSTURE.get(key) != str(target):
            self.stdout.write(f"use it with TLSPOSTURE_{key}={target}")

    @staticmethod
    def _default_output(provider: str) -> str:
        configured = settings.TLSPOSTURE.get(f"CA_BUNDLE_{provider.upper()}")
        return configured or str(settings.DATA_DIR / "ca" / f"{provider}-bundle.pem")
