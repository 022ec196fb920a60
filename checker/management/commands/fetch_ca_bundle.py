"""`manage.py fetch_ca_bundle PROVIDER [--url URL] [--output PATH]`: install a provider's CA
bundle, and next to it the public roots its proxies chain to when those differ (for aws:
the RDS CAs for DB instances and Aurora clusters, and the Amazon Trust Services roots for
RDS Proxy endpoints, from the local trust store). What each provider offers is in
inventory/sources/clouds.py."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from checker.ca_bundle import BundleError, download, install, parse_bundle, proxy_root_cas
from inventory.sources.clouds import CLOUDS, ProxyRoots, cloud


class Command(BaseCommand):
    help = "Download a provider's CA trust bundle, check it, install it and list its CAs."

    def add_arguments(self, parser):
        parser.add_argument("provider", choices=sorted(CLOUDS))
        parser.add_argument("--url", help="download from here instead of the provider's URL")
        parser.add_argument(
            "--output",
            help="where to install it (default: TLSPOSTURE_CA_BUNDLE_<PROVIDER>, else "
            "$TLSPOSTURE_DATA_DIR/ca/<provider>-bundle.pem)",
        )
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args, provider, url, output, timeout, **options):
        facts = cloud(provider)
        url = url or facts.trust_bundle_url
        if not url:
            raise CommandError(facts.trust_bundle_manual)
        target = Path(output or self._default_output(provider))
        try:
            data = download(url, timeout=timeout)
            authorities = parse_bundle(data)
            install(data, target)
        except BundleError as exc:
            raise CommandError(f"{exc}; nothing was written") from None
        except OSError as exc:
            raise CommandError(f"cannot write {target}: {exc.strerror}; nothing written") from None
        self._report(provider, target, url, authorities, facts.trust_bundle_covers)
        if facts.proxy_roots is not None:
            self._install_proxy_bundle(
                provider, facts.proxy_roots, Path(output).parent if output else None
            )

    def _install_proxy_bundle(self, provider: str, roots: ProxyRoots, directory) -> None:
        configured = settings.TLSPOSTURE.get(f"CA_BUNDLE_{provider.upper()}_PROXY")
        if directory is not None:
            target = directory / roots.file_name
        else:
            target = Path(configured or settings.DATA_DIR / "ca" / roots.file_name)
        try:
            pem, source = proxy_root_cas(roots)
            authorities = parse_bundle(pem)
            install(pem, target)
        except BundleError as exc:
            raise CommandError(f"{roots.proxies} bundle: {exc}; it was not written") from None
        except OSError as exc:
            raise CommandError(f"cannot write {target}: {exc.strerror}; not written") from None
        self._report(f"{provider}-proxy", target, source, authorities, roots.covers)

    def _report(self, which: str, target: Path, source: str, authorities, covers: str) -> None:
        self.stdout.write(
            f"installed {target} from {source}: {len(authorities)} CAs"
            + (f" — {covers}" if covers else "")
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
