"""The label's classifier q(y | t): a distribution over labels that reads every unit."""
import math

import torch

from infoplane import fit
from models import LabelPosterior

from conftest import randomised


def test_posteriors_are_distributions_and_every_unit_reaches_the_label():
    model = randomised(LabelPosterior(7, 3, classes=4, hidden=6))
    codes = torch.randint(0, 3, (5, 7), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        before = model.log_posterior_nats(codes)
        assert torch.allclose(before.exp().sum(1), torch.ones(5), atol=1e-6)
        for j in range(7):
            changed = codes.clone()
            changed[:, j] = (changed[:, j] + 1) % 3
            after = model.log_posterior_nats(changed)
            assert torch.all((after - before).abs().sum(1) > 1e-7), f"the label misses unit {j}"


def test_features_are_centred_on_the_codes_they_are_set_from():
    model = LabelPosterior(5, 8, classes=2)
    codes = torch.randint(0, 8, (200, 5), generator=torch.Generator().manual_seed(1))
    model.set_feature_means(codes)
    centred = model.features(codes) - model.feature_means
    assert centred.mean(0).abs().max() < 1e-6
    assert model.features(torch.full((1, 5), 7)).eq(1.0).all()  # the top bin lies at 1


def test_fitting_learns_a_label_that_depends_on_two_units_jointly():
    """y = 1 exactly when units 0 and 1 lie on the same side of the middle bin (an XOR of
    two units, which no linear map of the features reads): the fitted q(y|t) must gain
    most of the label's bit on held-out codes."""
    generator = torch.Generator().manual_seed(0)
    codes = torch.randint(0, 4, (8000, 6), generator=generator)
    labels = ((codes[:, 0] >= 2) == (codes[:, 1] >= 2)).long()
    torch.manual_seed(0)
    model = LabelPosterior(6, 4, classes=2, hidden=16)
    model.set_feature_means(codes[:6000])
    fit.fit_model(model, (codes[:6000], labels[:6000]), (codes[6000:7000], labels[6000:7000]),
                  lr=1e-2, batch_size=50, with_labels=True, max_epochs=40, patience=3,
                  seed=0, averaging=0.99, log=lambda line: None)
    log_posterior = fit.label_posterior_nats(model, codes[7000:])  # (1000, 2) float64
    test_nll_bits = -log_posterior[range(1000), labels[7000:].numpy()].mean() / math.log(2)
    assert test_nll_bits < 0.2  # the label's entropy is 1 bit
