"""``python -m tests.moto_apigateway -H 127.0.0.1 -p PORT``: moto_server, plus what the HTTP API rehearsal needs of it.

moto 5.2.5 keeps HTTP APIs (``apigatewayv2``) but its CloudFormation skips their resource types, so Zappa's
stack for ``apigateway_version`` v2 would make nothing, and it has no ``UpdateStage``, which the throttle uses.
This adds both, on moto's own ``apigatewayv2`` backend: the stack's Api, Integration, Route and Stage become
real moto objects that ``get_apis``, ``get_integrations``, ``get_routes`` and ``get_stage`` return. Nothing else
of moto changes.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from moto.apigatewayv2.models import apigatewayv2_backends
from moto.awslambda import urls as lambda_urls
from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import LambdaBackend, lambda_backends
from moto.apigatewayv2.responses import ApiGatewayV2Response
from moto.core.common_models import CloudFormationModel
from moto.server import main


# moto files each model under the second part of its module's name, which __main__ lacks.
MODULE = "moto.apigatewayv2.cloudformation"


def _backend(account_id: str, region_name: str) -> Any:
    return apigatewayv2_backends[account_id][region_name]


class _V2Resource:
    """A resource of an HTTP API made from a stack: its physical id is what ``Ref`` gives.

    Each model below also names CloudFormationModel as a base: moto finds models by its ``__subclasses__()``.
    """

    def __init__(self, physical_id: str) -> None:
        self.id = physical_id

    @staticmethod
    def make(backend: Any, given: dict[str, Any]) -> str:
        """Make the resource from its template ``Properties`` in moto's backend; its id."""
        raise NotImplementedError

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                        account_id: str, region_name: str, **kwargs: Any) -> _V2Resource:
        return cls(cls.make(_backend(account_id, region_name), cloudformation_json["Properties"]))

    @property
    def physical_resource_id(self) -> str:
        return self.id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("ApiId", "ApiEndpoint")

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,  # type: ignore[misc]
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> Any:
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                        account_id: str, region_name: str) -> None:
        """The Api's deletion takes its parts with it."""

    def is_created(self) -> bool:
        return True


class HttpApi(_V2Resource, CloudFormationModel):
    __module__ = MODULE

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGatewayV2::Api"

    @staticmethod
    def make(backend: Any, given: dict[str, Any]) -> str:
        return backend.create_api(
            api_key_selection_expression=None, cors_configuration=given.get("CorsConfiguration"),
            description=given.get("Description"), disable_schema_validation=None,
            disable_execute_api_endpoint=None, name=given["Name"], protocol_type=given["ProtocolType"],
            route_selection_expression=None, tags=given.get("Tags"), version=None).api_id

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],  # type: ignore[misc]
                                        account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).delete_api(resource_name)


class HttpIntegration(_V2Resource, CloudFormationModel):
    __module__ = MODULE

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGatewayV2::Integration"

    @staticmethod
    def make(backend: Any, given: dict[str, Any]) -> str:
        return backend.create_integration(
            api_id=given["ApiId"], connection_id=None, connection_type=None, content_handling_strategy=None,
            credentials_arn=None, description=None, integration_method=None, integration_subtype=None,
            integration_type=given["IntegrationType"], integration_uri=given["IntegrationUri"],
            passthrough_behavior=None, payload_format_version=given.get("PayloadFormatVersion"),
            request_parameters=None, request_templates=None, response_parameters=None,
            template_selection_expression=None, timeout_in_millis=None, tls_config=None).id


class HttpRoute(_V2Resource, CloudFormationModel):
    __module__ = MODULE

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGatewayV2::Route"

    @staticmethod
    def make(backend: Any, given: dict[str, Any]) -> str:
        return backend.create_route(
            api_id=given["ApiId"], api_key_required=False, authorization_scopes=None,
            authorization_type=given.get("AuthorizationType"), authorizer_id=None, model_selection_expression=None,
            operation_name=None, request_models=None, request_parameters=None, route_key=given["RouteKey"],
            route_response_selection_expression=None, target=given.get("Target")).route_id


class HttpStage(_V2Resource, CloudFormationModel):
    __module__ = MODULE

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGatewayV2::Stage"

    @staticmethod
    def make(backend: Any, given: dict[str, Any]) -> str:
        return backend.create_stage(given["ApiId"], {"stageName": given["StageName"],
                                                     "autoDeploy": given.get("AutoDeploy")}).name


def update_stage(self: ApiGatewayV2Response) -> tuple[int, dict, str]:
    """``PATCH /v2/apis/{api}/stages/{stage}``: the default route settings (throttling), as API Gateway keeps them."""
    api_id, stage_name = self.path.split("/")[-3], self.path.split("/")[-1]
    stage = self.apigatewayv2_backend.get_stage(api_id, stage_name)
    stage.default_route_settings.update(json.loads(self.body).get("defaultRouteSettings", {}))
    return 200, {}, json.dumps(stage.to_json())


ApiGatewayV2Response.update_stage = update_stage


def account_settings(request: Any, full_url: str, headers: Any) -> tuple[int, dict, str]:
    """``GET /2016-08-19/account-settings/``: the quota ``MOTO_LAMBDA_CONCURRENCY_QUOTA`` (1,000 unless set; moto's
    PutFunctionConcurrency enforces it), none of it reserved but what moto's functions reserve."""
    quota = int(os.environ.get("MOTO_LAMBDA_CONCURRENCY_QUOTA", "1000"))
    # The region is the signature's: Credential=KEY/DATE/REGION/lambda/aws4_request.
    account, region = "123456789012", headers.get("Authorization", "").split("Credential=")[1].split("/")[2]
    functions = lambda_backends[account][region].list_functions()
    reserved = sum(int(f.reserved_concurrency or 0) for f in functions)
    return 200, {}, json.dumps({"AccountLimit": {"ConcurrentExecutions": quota,
                                                 "UnreservedConcurrentExecutions": quota - reserved},
                                "AccountUsage": {"FunctionCount": len(functions)}})


lambda_urls.url_paths[r"{0}/(?P<api_version>[^/]+)/account-settings/?$"] = account_settings

# IAM is eventually consistent: Lambda may refuse a role made seconds ago. MOTO_ROLE_NOT_READY=N refuses the first
# N CreateFunction calls with Zappa's role as Lambda does then.
_refusals = {"left": int(os.environ.get("MOTO_ROLE_NOT_READY", "0"))}
_create_function = LambdaBackend.create_function


def create_function(self: LambdaBackend, spec: dict[str, Any]) -> Any:
    if _refusals["left"] > 0 and spec.get("Role", "").endswith("-ZappaLambdaExecutionRole"):
        _refusals["left"] -= 1
        raise InvalidParameterValueException("The role defined for the function cannot be assumed by Lambda.")
    return _create_function(self, spec)


LambdaBackend.create_function = create_function  # type: ignore[method-assign]

if __name__ == "__main__":
    main(sys.argv[1:])
