"""django-otp's device admins in the unfold theme: a superuser deletes a lost phone's
devices here (or with ``manage.py staff_2fa_reset``). Their secrets stay hidden
(``OTP_ADMIN_HIDE_SENSITIVE_DATA``)."""

from django.contrib import admin
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin as OtpStaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin as OtpTOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from unfold.admin import ModelAdmin, TabularInline

admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(OtpTOTPDeviceAdmin, ModelAdmin):
    pass


class StaticTokenInline(TabularInline):
    model = StaticToken
    extra = 0


@admin.register(StaticDevice)
class StaticDeviceAdmin(OtpStaticDeviceAdmin, ModelAdmin):
    inlines = [StaticTokenInline]
