# Two commands do all the set-up:  make demo  (train, estimate, figures)  and  make test.
# Override on the command line, e.g.  make demo DEVICES=0,1,2,3 RANKS=4 PRESET=full
# make study: tanh against ReLU over network seeds (STUDY=full for GPUs)
PYTHON_SYSTEM ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MPIRUN := $(VENV)/bin/mpirun
DEVICES ?= cpu
RANKS ?= 2
PRESET ?= quick
STUDY ?= quick
comma := ,

.PHONY: demo study test venv benchmark clean

venv: $(VENV)/installed

$(VENV)/installed: requirements.txt
	test -x $(PY) || $(PYTHON_SYSTEM) -m venv $(VENV)
	$(PY) -m pip install --quiet --quiet --disable-pip-version-check -r requirements.txt
	touch $@

demo: venv
	$(PY) train_model.py --devices $(firstword $(subst $(comma), ,$(DEVICES)))
	$(MPIRUN) -np $(RANKS) $(PY) generator.py --devices $(DEVICES) --preset $(PRESET)
	$(PY) -m jupyter nbconvert --to notebook --execute plots.ipynb --output-dir results
	@echo "figures: results/*.png  table: results/table.md  notebook: results/plots.ipynb"

study: venv
	$(PY) study.py --size $(STUDY) --devices $(DEVICES) --ranks $(RANKS)

test: venv
	$(PY) -m pytest -q tests

benchmark: venv
	$(PY) benchmarks/estimator_accuracy.py --preset $(PRESET)

clean:
	rm -rf activations/itr*.npz activations/meta.json results/itr*.json results/summary.* \
	       results/*.png results/table.md results/config.json results/.claims \
	       results/.lock
