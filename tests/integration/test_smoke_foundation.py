"""First end-to-end pass over the foundation routes."""

from tests.support.helpers import Api, Seed


def test_org_lifecycle(api: Api, seed: Seed) -> None:
    r = api.get("/v1/me", seed.admin.key)
    assert r.status == 200, r.body
    assert r.body["memberships"][0]["role"] == "account_admin"
    r = api.get(f"/v1/orgs/{seed.org_id}", seed.member.key)
    assert r.status == 200, r.body
    assert r.body["seats"] == {"capacity": 10, "used": 0, "available": 10}
    r = api.get(f"/v1/orgs/{seed.org_id}", seed.outsider.key)
    assert r.status == 404 and r.code == "not_found"
    r = api.get("/v1/me")
    assert r.status == 401 and "Bearer" in r.headers.get("www-authenticate", r.headers.get("WWW-Authenticate", ""))
