/* The sampled-out path of WSGI-style request roots, in C (optional; roots/fast.py has the Python twin).

A request that is sampled out should cost next to nothing. In Python, the root's few lines (read the runtime,
look at the environ, ask the sampler, mark the environ) cost ~1.5 us per Flask request: they run cold between
two requests, and Python touches many objects to run them. A Root object does the same checks in C and calls
the framework's own method at once; anything that needs more than the checks goes to the Python code.

A Root wraps ``original`` (e.g. ``Flask.wsgi_app``) and binds like a function (it is a method descriptor).
On a call with the WSGI environ at position ``environ_at``:

- probes off (``configure(OFF, ...)``), no environ dict, or the environ already holds ``decided_key``
  (an outer root decided): ``original(*args)``;
- mode SLOW (the sampler needs Python: rates by route): ``slow(*args)``, which decides in Python;
- a sampled request is active already (the contextvar is set): mark the environ, ``original(*args)``;
- rate <= 0: mark the environ ``False``, ``original(*args)``;
- else ``random() < rate`` (the same draw from the probes' own generator the Python sampler makes):
  ``sampled(*args)`` when it is in, else mark the environ and ``original(*args)``.

Nothing the client sends is looked at: trace headers decide nothing unless the deployment trusts upstream
decisions, and then the runtime sets mode SLOW. The mode and rate are set by the runtime when it installs
and uninstalls (``configure``).

Errors inside these checks are cleared only when they are ``Exception``s (the request then goes on as if
sampled out, or to Python); anything else — a ``KeyboardInterrupt`` delivered meanwhile — propagates, as it
would have without the probes.
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

enum { MODE_OFF = 0, MODE_FAST = 1, MODE_SLOW = 2 };

static int mode = MODE_OFF;
static double rate = 0.0;
static PyObject *current_var = NULL; /* the recorder's ContextVar */
static PyObject *random_fn = NULL;   /* random.random */
static PyObject *decided_key = NULL; /* environ key of the decision */
typedef struct {
    PyObject_HEAD
    PyObject *original;
    PyObject *slow;
    PyObject *sampled;
    PyObject *dict; /* __dict__: __wrapped__, the probes' marks, __name__ */
    Py_ssize_t environ_at;
    vectorcallfunc vectorcall;
} Root;

static PyObject *
call(PyObject *fn, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return PyObject_Vectorcall(fn, args, PyVectorcall_NARGS(nargsf), kwnames);
}

/* An error of the probes' own checks: cleared (0) when it is an Exception, kept (-1) when it is not. */
static int
clear_exception(void)
{
    if (PyErr_ExceptionMatches(PyExc_Exception)) {
        PyErr_Clear();
        return 0;
    }
    return -1;
}

static PyObject *
mark_and_call(Root *self, PyObject *environ, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (PyDict_SetItem(environ, decided_key, Py_False) < 0 && clear_exception() < 0) {
        return NULL; /* an Exception is cleared (the request just goes unmarked); nothing else is */
    }
    return call(self->original, args, nargsf, kwnames);
}

static PyObject *
root_vectorcall(PyObject *op, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Root *self = (Root *)op;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (mode == MODE_OFF || nargs <= self->environ_at) {
        return call(self->original, args, nargsf, kwnames);
    }
    PyObject *environ = args[self->environ_at];
    if (!PyDict_Check(environ)) {
        return call(self->original, args, nargsf, kwnames);
    }
    int seen = PyDict_Contains(environ, decided_key);
    if (seen != 0) {
        if (seen < 0 && clear_exception() < 0) {
            return NULL;
        }
        return call(self->original, args, nargsf, kwnames);
    }
    if (mode == MODE_SLOW) {
        return call(self->slow, args, nargsf, kwnames);
    }
    PyObject *active = NULL;
    if (PyContextVar_Get(current_var, Py_None, &active) < 0) {
        if (clear_exception() < 0) {
            return NULL;
        }
        return call(self->slow, args, nargsf, kwnames);
    }
    int inside = active != NULL && active != Py_None;
    Py_XDECREF(active);
    if (inside || rate <= 0.0) {
        return mark_and_call(self, environ, args, nargsf, kwnames);
    }
    if (rate < 1.0) {
        PyObject *drawn = PyObject_CallNoArgs(random_fn);
        double r = drawn != NULL ? PyFloat_AsDouble(drawn) : -1.0;
        Py_XDECREF(drawn);
        if (r == -1.0 && PyErr_Occurred()) {
            if (clear_exception() < 0) {
                return NULL;
            }
            return call(self->slow, args, nargsf, kwnames);
        }
        if (r >= rate) {
            return mark_and_call(self, environ, args, nargsf, kwnames);
        }
    }
    return call(self->sampled, args, nargsf, kwnames);
}

static PyObject *
root_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"original", "slow", "sampled", "environ_at", NULL};
    PyObject *original, *slow, *sampled;
    Py_ssize_t environ_at = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO|n", names, &original, &slow, &sampled, &environ_at)) {
        return NULL;
    }
    if (!PyCallable_Check(original) || !PyCallable_Check(slow) || !PyCallable_Check(sampled)) {
        PyErr_SetString(PyExc_TypeError, "Root(original, slow, sampled): all three must be callable");
        return NULL;
    }
    if (environ_at < 0) {
        PyErr_SetString(PyExc_ValueError, "environ_at must be >= 0");
        return NULL;
    }
    Root *self = (Root *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->original = Py_NewRef(original);
    self->slow = Py_NewRef(slow);
    self->sampled = Py_NewRef(sampled);
    self->environ_at = environ_at;
    self->dict = NULL;
    self->vectorcall = root_vectorcall;
    return (PyObject *)self;
}

static int
root_traverse(Root *self, visitproc visit, void *arg)
{
    Py_VISIT(self->original);
    Py_VISIT(self->slow);
    Py_VISIT(self->sampled);
    Py_VISIT(self->dict);
    return 0;
}

static int
root_clear(Root *self)
{
    Py_CLEAR(self->original);
    Py_CLEAR(self->slow);
    Py_CLEAR(self->sampled);
    Py_CLEAR(self->dict);
    return 0;
}

static void
root_dealloc(Root *self)
{
    PyObject_GC_UnTrack(self);
    root_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
root_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None) {
        return Py_NewRef(self);
    }
    return PyMethod_New(self, obj);
}

static PyMemberDef root_members[] = {
    {"original", T_OBJECT, offsetof(Root, original), READONLY, "the wrapped callable"},
    {"environ_at", T_PYSSIZET, offsetof(Root, environ_at), READONLY, "position of the WSGI environ"},
    {"__dictoffset__", T_PYSSIZET, offsetof(Root, dict), READONLY},
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(Root, vectorcall), READONLY},
    {NULL},
};

static PyGetSetDef root_getset[] = {
    {"__dict__", (getter)PyObject_GenericGetDict, (setter)PyObject_GenericSetDict},
    {NULL},
};

static PyTypeObject RootType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "flowscope_probes.roots._fast.Root",
    .tp_basicsize = sizeof(Root),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
                Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_doc = "Root(original, slow, sampled, environ_at=1): a WSGI-style request root, sampled-out path in C.",
    .tp_new = root_new,
    .tp_dealloc = (destructor)root_dealloc,
    .tp_traverse = (traverseproc)root_traverse,
    .tp_clear = (inquiry)root_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Root, vectorcall),
    .tp_descr_get = root_get,
    .tp_dictoffset = offsetof(Root, dict),
    .tp_members = root_members,
    .tp_getset = root_getset,
};

static PyObject *
configure(PyObject *module, PyObject *args)
{
    int new_mode;
    double new_rate;
    PyObject *var, *rnd, *key;
    if (!PyArg_ParseTuple(args, "idOOU", &new_mode, &new_rate, &var, &rnd, &key)) {
        return NULL;
    }
    if (new_mode < MODE_OFF || new_mode > MODE_SLOW) {
        PyErr_SetString(PyExc_ValueError, "mode must be OFF, FAST or SLOW");
        return NULL;
    }
    if (!PyContextVar_CheckExact(var) || !PyCallable_Check(rnd)) {
        PyErr_SetString(PyExc_TypeError, "configure(mode, rate, contextvar, random, key)");
        return NULL;
    }
    Py_XSETREF(current_var, Py_NewRef(var));
    Py_XSETREF(random_fn, Py_NewRef(rnd));
    Py_XSETREF(decided_key, Py_NewRef(key));
    rate = new_rate;
    mode = new_mode;
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"configure", configure, METH_VARARGS,
     "configure(mode, rate, contextvar, random, decided_key): what every Root decides with."},
    {NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_fast", "Request roots' sampled-out path in C (see roots/fast.py).", -1,
    module_methods,
};

PyMODINIT_FUNC
PyInit__fast(void)
{
    if (PyType_Ready(&RootType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddIntConstant(module, "OFF", MODE_OFF) < 0 ||
        PyModule_AddIntConstant(module, "FAST", MODE_FAST) < 0 ||
        PyModule_AddIntConstant(module, "SLOW", MODE_SLOW) < 0 ||
        PyModule_AddObjectRef(module, "Root", (PyObject *)&RootType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
