"""`codesign bench train` on the 784-250-125-10 perceptron: alternating rounds, the best
rate of each kind kept, every round reported, and where the time goes printed as a table
(the speed targets are benchmarks, not asserted here)."""
import json

from codesign.cli import main


def test_bench_train_keeps_the_best_of_alternating_rounds(capsys):
    assert main(["bench", "train", "--images", "10", "--batch", "4", "--repeat", "2",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["repeat"] == 2
    for best, runs in (("software_images_per_s", "software_images_per_s_runs"),
                       ("analog_images_per_s", "analog_images_per_s_runs"),
                       ("analog_batch_images_per_s", "analog_batch_images_per_s_runs")):
        rates = [float(r.replace(",", "")) for r in out[runs].split(", ")]
        assert len(rates) == 2 and all(r > 0 for r in rates)
        assert f"{out[best]:,.0f}" == f"{max(rates):,.0f}"      # the best round is kept
    assert out["ratio_vs_software"] == out["software_images_per_s"] / \
        out["analog_images_per_s"]
    assert len(out["ratio_vs_software_runs"].split(", ")) == 2
    assert out["profile_batch1"] and 0 < out["profile_batch1"][0]["own_time_fraction"] <= 1


def test_bench_train_table_prints_where_the_time_goes(capsys):
    assert main(["bench", "train", "--images", "10", "--batch", "4", "--repeat", "1"]) == 0
    text = capsys.readouterr().out
    assert "analog_images_per_s_runs" in text
    # the profile's rows follow the metrics as their own table
    profile = text[text.index("profile_batch1"):]
    assert "own_time_fraction" in profile.splitlines()[1]
    assert len(profile.strip().splitlines()) >= 4          # title, header, rule, rows
