# Common commands; the README names them.
PYTHON ?= python
export HDR_DATA_DIR ?= ../shared/mnist
export HDR_HANDWRITING_DIR ?= ../shared/handwriting

.PHONY: install install-dev app test test-fast lint format bench screenshots train-default train-gate

install:  ## runtime packages: the library, CLI and app
	$(PYTHON) -m pip install -r requirements.txt

install-dev:  ## runtime + tests, browser tests and lint
	$(PYTHON) -m pip install -r requirements-dev.txt

app:  ## start the app with the shipped model
	streamlit run app.py

test:  ## every test, browser tests included (needs Chromium at /usr/bin/chromium)
	$(PYTHON) -m pytest

test-fast:  ## everything but the real-browser tests and those that need MNIST (runs without the data set)
	$(PYTHON) -m pytest -m "not browser and not mnist"

screenshots:  ## the screenshots of the README and docs/app.md, taken by the browser tests in docs/screenshots/
	HDR_SCREENSHOTS_DIR=docs/screenshots $(PYTHON) -m pytest -m browser tests/test_browser.py tests/test_browser_draw.py tests/test_attribution.py

lint:  ## what CI checks: lint and format over the whole repository
	ruff check . && ruff format --check .

format:
	ruff format . && ruff check --fix .

bench:  ## the benchmarks whose tables are in docs/ (benchmarks.md, pipeline.md, training.md, real-handwriting.md)
	$(PYTHON) -m bench.predict_speed --n 1000
	$(PYTHON) -m bench.zoo --epochs 1
	$(PYTHON) -m bench.time_to_accuracy
	$(PYTHON) -m bench.export_size
	$(PYTHON) -m bench.api_load --workers 1 2 4
	$(PYTHON) -m bench.idle_connections
	$(PYTHON) -m bench.memory_burst
	$(PYTHON) -m bench.score_photos --n 30 --timing-runs 9
	$(PYTHON) -m bench.robustness --n 1000
	$(PYTHON) -m bench.app_latency --samples 100
	$(PYTHON) -m bench.real_handwriting
	$(PYTHON) -m bench.unsure_signals
	$(PYTHON) -m bench.fine_tune --source ardis
	$(PYTHON) -m bench.live_camera --seconds 30 --strokes 20
	$(PYTHON) -m bench.non_digits

train-default:  ## how models/default.keras was made: the commands in its card (see docs/model.md)
	$(PYTHON) -m hdr train --preset best --damage 0.5 --damage-mix heavy --handwriting-dir $(HDR_HANDWRITING_DIR) --seed 5 --out models/candidates/S40-5.keras
	$(PYTHON) -m hdr train --preset best --damage 0.5 --damage-mix heavy --handwriting-dir $(HDR_HANDWRITING_DIR) --seed 6 --out models/candidates/S40-6.keras
	$(PYTHON) -m hdr train --preset best --damage 0.5 --damage-mix heavy --seed 7 --out models/heavy-7.keras --overwrite
	$(PYTHON) -m hdr ensemble models/candidates/S40-5.keras models/candidates/S40-6.keras models/heavy-7.keras --handwriting-dir $(HDR_HANDWRITING_DIR) --out models/default.keras --overwrite
	$(PYTHON) -m hdr calibrate --handwriting-dir $(HDR_HANDWRITING_DIR)

train-gate:  ## how models/gate/gate.keras was made: the commands in its card (see docs/non-digits.md)
	$(PYTHON) -m tools.train_gate --non-digits 600 --val-digits 4000 --max-rejected 0.0075 --handwriting-dir $(HDR_HANDWRITING_DIR)
