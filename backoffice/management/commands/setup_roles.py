from django.core.management.base import BaseCommand

from backoffice.roles import roles_setup


class Command(BaseCommand):
    help = "Create or refresh the staff groups (warehouse, finance, customer service, manager)."

    def handle(self, *args, **options):
        for name, count in roles_setup().items():
            self.stdout.write(f"{name}: {count} permissions")
