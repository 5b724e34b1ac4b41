from tests.conftest import World


def test_world_builds(world: World) -> None:
    assert world.goal_a.contributes_to.get() == world.council_goal
