from estimators.cli import main


def test_datasets_lists_shipped_tables(capsys):
    assert main(["datasets"]) == 0
    assert "LCMCR_kosovo" in capsys.readouterr().out


def test_unknown_dataset_is_a_clear_error(capsys):
    assert main(["estimate", "no_such_table"]) == 2
    assert "Unknown dataset 'no_such_table'" in capsys.readouterr().err


def test_estimate_prints_summary_and_rate(capsys):
    assert main(["estimate", "CARE1_HAV", "--method", "loglinear", "--days", "120", "--population", "3000"]) == 0
    out = capsys.readouterr().out
    assert "Population size" in out and "deaths per 10,000 per day" in out


def test_random_seed_reaches_every_seeded_method(capsys):
    # sample_coverage bootstraps its standard error: the same --random-seed must print the same interval
    arguments = ["estimate", "CARE1_HAV", "--method", "sample_coverage", "--random-seed", "7"]
    assert main(arguments) == 0
    first = capsys.readouterr().out
    assert main(arguments) == 0
    assert capsys.readouterr().out == first
    assert main(["estimate", "CARE1_HAV", "--method", "sample_coverage", "--random-seed", "8"]) == 0
    assert capsys.readouterr().out != first
