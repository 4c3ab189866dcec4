"""Every JSON API endpoint is in the OpenAPI schema the console serves, with what it takes."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from rasd.console import api

pytestmark = pytest.mark.integration

# Under /api but not API endpoints: the schema itself and its page.
NOT_ENDPOINTS = {"/api/openapi.json", "/api/docs"}


def test_every_api_route_is_documented_with_a_summary(console, client):
    spec = client.get("/api/openapi.json").json()
    # The API's router and any endpoint the app adds itself (included routers are not listed
    # in app.routes by recent FastAPI versions).
    routes = [
        route
        for route in [*api.router.routes, *console.app.routes]
        if isinstance(route, APIRoute)
        and route.path.startswith("/api/")
        and route.path not in NOT_ENDPOINTS
    ]
    assert len(routes) > 20
    missing, unsummarised = [], []
    for route in routes:
        path = route.path.replace(":path}", "}")
        for method in route.methods - {"HEAD"}:
            operation = spec["paths"].get(path, {}).get(method.lower())
            if operation is None:
                missing.append(f"{method} {path}")
            elif not operation.get("summary"):
                unsummarised.append(f"{method} {path}")
    assert missing == []
    assert unsummarised == []


def resolve(spec: dict, schema: dict) -> dict:
    ref = schema.get("$ref", "")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


def test_feedback_and_chart_endpoints_describe_their_bodies(client):
    spec = client.get("/api/openapi.json").json()
    paths = spec["paths"]

    verdict = paths["/api/alerts/{key}/feedback"]["post"]
    body = resolve(spec, verdict["requestBody"]["content"]["application/json"]["schema"])
    assert body["required"] == ["verdict"]
    assert body["properties"]["verdict"]["enum"] == ["useful", "false-alarm"]
    assert body["properties"]["note"]["maxLength"] == 1000
    answer = verdict["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"verdict", "rule", "by", "at"} <= set(resolve(spec, answer)["properties"])

    missed = paths["/api/feedback/missed"]["post"]
    body = resolve(spec, missed["requestBody"]["content"]["application/json"]["schema"])
    assert set(body["required"]) == {"article_id", "rule"}
    days = {p["name"]: p for p in paths["/api/feedback"]["get"]["parameters"]}["days"]
    assert (days["schema"]["minimum"], days["schema"]["maximum"]) == (1, 90)

    for chart in (
        "/api/charts/alerts-per-hour",
        "/api/charts/places",
        "/api/charts/rule-hits",
        "/api/charts/health",
    ):
        answer = paths[chart]["get"]["responses"]["200"]["content"]["application/json"]
        assert answer["schema"], chart


def test_the_api_page_lists_the_schema(console, client):
    page = client.get("/api/docs").text
    assert '<span class="method">POST</span> <code>/api/alerts/{key}/feedback</code>' in page
    assert '<span class="method">GET</span> <code>/api/charts/places</code>' in page
    assert "AlertVerdict" in page
