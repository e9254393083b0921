"""Every public function, class and method of the package has a docstring."""
import inspect

import clconv
import clconv.torch as ct


def public(mod):
    for name in getattr(mod, "__all__", dir(mod)):
        obj = getattr(mod, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            yield "%s.%s" % (mod.__name__, name), obj
            if inspect.isclass(obj):
                for m, f in vars(obj).items():
                    if m.startswith("_") or not (inspect.isfunction(f) or isinstance(
                            f, (property, classmethod, staticmethod))):
                        continue
                    fn = f.__func__ if isinstance(f, (classmethod, staticmethod)) else f
                    yield "%s.%s.%s" % (mod.__name__, name, m), fn


def test_docstrings():
    missing = [n for mod in (clconv, ct) for n, o in public(mod)
               if not (inspect.getdoc(o) or "").strip()]
    assert not missing, "no docstring: " + ", ".join(missing)
