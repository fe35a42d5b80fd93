from tests.conftest import bearer


def test_issue_and_call_over_the_api(client, tokens):
    r = client.post("/api/v1/tickets", json={"service_id": 1}, headers=bearer(tokens["kiosk"]))
    assert r.status_code == 201, r.get_json()
    ticket = r.get_json()
    assert ticket["number"] == "A001"
    r = client.post("/api/v1/counters/1/call-next", headers=bearer(tokens["counter"]))
    assert r.status_code == 200
    assert r.get_json()["id"] == ticket["id"]
