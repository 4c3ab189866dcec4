from rasd.connectors.leases import rendezvous_owner


def test_rendezvous_moves_only_the_leaving_members_feeds():
    feeds = [f"feed-{i}" for i in range(200)]
    three = {f: rendezvous_owner(f, ["a", "b", "c"]) for f in feeds}
    two = {f: rendezvous_owner(f, ["a", "b"]) for f in feeds}
    assert all(two[f] == owner for f, owner in three.items() if owner != "c")
    shares = [list(three.values()).count(m) for m in "abc"]
    assert min(shares) > 40
    assert rendezvous_owner("x", []) is None
