import socket
import time
import urllib.request

import pytest
import torch

torch.set_num_threads(1)  # the models are tiny: one thread is fastest and keeps runs repeatable


@pytest.fixture
def trained():
    """Train a registered model on a registered dataset with its registered recipe."""
    from graintrain import MODELS, Recipe, fit, make_dataset, make_model
    import dataclasses

    def train(model: str, dataset: str, seed: int = 0, recipe: Recipe | None = None, **options):
        data = make_dataset(dataset, seed=seed)
        recipe = dataclasses.replace(recipe or MODELS[model].recipe, seed=seed)
        result = fit(lambda: make_model(model, data, **options), data.train, recipe)
        return result.model, data, result
    return train


@pytest.fixture(scope="session")
def site_cache(tmp_path_factory):
    """A cache holding every run the article needs, trained once for the whole test session."""
    from graintrain.cache import Cache
    return Cache(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def site(site_cache):
    """The built article."""
    from graintrain.article.site import build_site
    return build_site(site_cache)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 20) -> None:
    end = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)
