"""The connectors' metrics endpoint listens on loopback unless told otherwise."""

import httpx

from rasd.connectors import metrics


def test_metrics_listen_on_loopback_by_default():
    server, thread = metrics.serve(0)
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        metrics.FETCHES.labels("loopback-probe", "ok").inc()
        answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert answer.status_code == 200
        assert 'rasd_connector_fetches_total{feed="loopback-probe",outcome="ok"}' in answer.text
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_connectors_run_serves_metrics_on_loopback_unless_told():
    import inspect

    from rasd.connectors.cli import run

    option = inspect.signature(run).parameters["metrics_host"].default
    assert (option.default, option.envvar) == ("127.0.0.1", "RASD_CONNECTORS_METRICS_HOST")
