from kehu.org.models import Staff


def test_cast_builds(cast):
    assert Staff.objects.count() == 9
    assert cast.manager.managed_paths == [cast.team.path]
    assert cast.region_manager.managed_paths == [cast.region.path]
    assert cast.admin.is_admin
