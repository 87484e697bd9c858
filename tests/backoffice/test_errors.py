from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from backoffice.errors import ApplicationError, ConflictError, api_exception_handler


def _context():
    return {"request": APIRequestFactory().get("/")}


def test_application_error_becomes_400_with_named_fields():
    exc = ApplicationError("CPF inválido", errors=[{"field": "customer.document", "message": "x"}])

    response = api_exception_handler(exc, _context())

    assert response is not None
    assert response.status_code == 400
    assert response.data == {
        "detail": "CPF inválido",
        "errors": [{"field": "customer.document", "message": "x"}],
    }


def test_conflict_error_is_409():
    response = api_exception_handler(ConflictError("cannot ship a cancelled order"), _context())
    assert response is not None and response.status_code == 409


def test_drf_validation_errors_are_flattened_to_field_paths():
    exc = serializers.ValidationError({"lines": [{"sku": ["unknown"]}, {}], "email": ["bad"]})

    response = api_exception_handler(exc, _context())

    assert response is not None and response.status_code == 400
    assert {"field": "lines[0].sku", "message": "unknown"} in response.data["errors"]
    assert {"field": "email", "message": "bad"} in response.data["errors"]
