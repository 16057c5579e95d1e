/* The matcher's hot loops in C (see docs/probes.md, "How one request is matched"):
 * - walk_sinks(): sink payloads flattened into leaf texts, noting where each leaf is (leaves._walk);
 * - normalize(): the noise floor of source values (engine.MatchEngine.normalized);
 * - join_lower(): the leaves joined by NUL and lower-cased (leaves.RequestText);
 * - find(): one pass over that text for every value, with the boundary and leaf rules (search.scan/record).
 * Optional: when this module is not built, the Python code named above runs instead, and the tests check that
 * both give the same results (tests/test_speedups.py, tests/test_matching_strategies.py).
 *
 * Safety inside a host process: the GIL is held throughout; every object taken from a payload is referenced
 * while it is walked (the host may change its dicts and lists from another thread); recursion is bounded by
 * the caller's depth limit; every index is checked against the text's length.
 */
#define _GNU_SOURCE /* memrchr */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static PyObject *json_loads = NULL;  /* json.loads */
static PyObject *fallback = NULL;    /* leaves.walk_texts(value, depth, texts, cap) -> bool, other types */
static unsigned char alnum[256];     /* str.isalnum() of the first 256 code points */
static Py_UCS1 lower[256];           /* str.lower() of Latin-1, which stays Latin-1; NUL made a space */
static int max_depth = 32;
static PyObject *text_true = NULL, *text_false = NULL; /* "true", "false": booleans as JSON spells them */

/* Where a walk appends: the leaf texts, at most ``cap`` of them, and optionally each leaf's location (``info``:
 * node, key per leaf) with the containers met (``nodes``: (parent node, key in it, is a mapping) each), from
 * which leaves.RequestText.path() spells a hit's field path. Node -1 is the payload itself; -2 marks a leaf
 * appended by the Python fallback, whose path is found by walking the payload again. ``nodes`` is flat, three
 * items per container, so a request's walk makes no tuples. */
typedef struct {
    PyObject *texts;
    Py_ssize_t cap;
    PyObject *info;  /* list or NULL */
    PyObject *nodes; /* list or NULL: parent node, key in it, is a mapping; per container */
} Ctx;

static int walk(PyObject *v, int depth, Ctx *cx, Py_ssize_t node, PyObject *key);

/* normalize.number_text() of a float: None for NaN and infinities, an integral value below 1e15 as an int,
 * else repr() (the shortest text that reads back the same). */
static PyObject *float_text(PyObject *v) {
    double x = PyFloat_AS_DOUBLE(v);
    if (!isfinite(x))
        Py_RETURN_NONE;
    if (x == floor(x) && fabs(x) < 1e15) {
        PyObject *i = PyLong_FromDouble(x);
        if (i == NULL)
            return NULL;
        PyObject *text = PyObject_Str(i);
        Py_DECREF(i);
        return text;
    }
    return PyObject_Repr(v);
}

static int append_info(Ctx *cx, Py_ssize_t node, PyObject *key) {
    PyObject *n = PyLong_FromSsize_t(node);
    if (n == NULL)
        return -1;
    int bad = PyList_Append(cx->info, n) < 0 || PyList_Append(cx->info, key ? key : Py_None) < 0;
    Py_DECREF(n);
    return bad ? -1 : 0;
}

static int append_leaf(Ctx *cx, PyObject *s, Py_ssize_t node, PyObject *key) {
    if (PyList_GET_SIZE(cx->texts) >= cx->cap)
        return 1;
    if (PyList_Append(cx->texts, s) < 0)
        return -1;
    return cx->info ? append_info(cx, node, key) : 0;
}

/* A str leaf; JSON object or array text is decoded and walked one level deeper, at the same place. */
static int walk_str(PyObject *s, int depth, Ctx *cx, Py_ssize_t node, PyObject *key) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (n > 0) {
        int kind = PyUnicode_KIND(s);
        const void *data = PyUnicode_DATA(s);
        Py_UCS4 c = PyUnicode_READ(kind, data, 0);
        if (c == '{' || c == '[' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            Py_ssize_t i = 0;
            while (i < n && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i)))
                i++;
            Py_UCS4 d = i < n ? PyUnicode_READ(kind, data, i) : 0;
            if (d == '{' || d == '[') {
                PyObject *doc = PyObject_CallOneArg(json_loads, s);
                if (doc == NULL) {
                    if (!PyErr_ExceptionMatches(PyExc_ValueError) &&
                        !PyErr_ExceptionMatches(PyExc_RecursionError))
                        return -1;
                    PyErr_Clear();
                } else {
                    int r = -2;
                    if (PyDict_CheckExact(doc) || PyList_CheckExact(doc))
                        r = walk(doc, depth + 1, cx, node, key);
                    Py_DECREF(doc);
                    if (r != -2)
                        return r;
                }
            }
        }
    }
    return append_leaf(cx, s, node, key);
}

static Py_ssize_t new_node(Ctx *cx, Py_ssize_t node, PyObject *key, int mapping) {
    if (cx->nodes == NULL)
        return -1;
    Py_ssize_t id = PyList_GET_SIZE(cx->nodes) / 3;
    PyObject *parent = PyLong_FromSsize_t(node);
    if (parent == NULL)
        return -3;
    int bad = PyList_Append(cx->nodes, parent) < 0 || PyList_Append(cx->nodes, key ? key : Py_None) < 0 ||
              PyList_Append(cx->nodes, mapping ? Py_True : Py_False) < 0;
    Py_DECREF(parent);
    return bad ? -3 : id;
}

static int walk_items(PyObject *v, int depth, Ctx *cx, Py_ssize_t node, PyObject *key) {
    int cut = 0;
    int mapping = PyDict_CheckExact(v);
    Py_ssize_t me = new_node(cx, node, key, mapping);
    if (me == -3)
        return -1;
    if (mapping) {
        Py_ssize_t pos = 0;
        PyObject *k, *item;
        while (PyDict_Next(v, &pos, &k, &item)) {
            Py_INCREF(item);
            Py_INCREF(k);
            int r = walk(item, depth + 1, cx, me, k);
            Py_DECREF(k);
            Py_DECREF(item);
            if (r < 0)
                return -1;
            cut |= r;
        }
        return cut;
    }
    int is_list = PyList_CheckExact(v);
    for (Py_ssize_t i = 0;; i++) {
        PyObject *item;
        if (is_list) {
            if (i >= PyList_GET_SIZE(v))
                break;
            item = PyList_GET_ITEM(v, i);
        } else {
            if (i >= PyTuple_GET_SIZE(v))
                break;
            item = PyTuple_GET_ITEM(v, i);
        }
        PyObject *idx = cx->info ? PyLong_FromSsize_t(i) : NULL;
        if (cx->info && idx == NULL)
            return -1;
        Py_INCREF(item);
        int r = walk(item, depth + 1, cx, me, idx);
        Py_DECREF(item);
        Py_XDECREF(idx);
        if (r < 0)
            return -1;
        cut |= r;
    }
    return cut;
}

/* The Python walker for the types the C code leaves to it; its leaves are marked node -2. */
static int walk_other(PyObject *v, int depth, Ctx *cx) {
    Py_ssize_t before = PyList_GET_SIZE(cx->texts);
    PyObject *r = PyObject_CallFunction(fallback, "OiOn", v, depth, cx->texts, cx->cap);
    if (r == NULL)
        return -1;
    int truth = PyObject_IsTrue(r);
    Py_DECREF(r);
    if (cx->info)
        for (Py_ssize_t i = before; i < PyList_GET_SIZE(cx->texts); i++)
            if (append_info(cx, -2, NULL) < 0)
                return -1;
    return truth;
}

/* 1 when something was left out (too deep or too many leaves), 0 when not, -1 on error. */
static int walk(PyObject *v, int depth, Ctx *cx, Py_ssize_t node, PyObject *key) {
    if (PyUnicode_CheckExact(v))
        return walk_str(v, depth, cx, node, key);
    if (PyLong_CheckExact(v) || PyFloat_CheckExact(v)) {
        PyObject *s = PyLong_CheckExact(v) ? PyObject_Str(v) : float_text(v);
        if (s == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_ValueError)) /* an int with more digits than str() allows */
                return -1;
            PyErr_Clear();
            return 0;
        }
        int r = s == Py_None ? 0 : append_leaf(cx, s, node, key);
        Py_DECREF(s);
        return r;
    }
    if (depth >= max_depth)
        return 1;
    if (PyDict_CheckExact(v) || PyList_CheckExact(v) || PyTuple_CheckExact(v))
        return walk_items(v, depth, cx, node, key);
    if (v == Py_None)
        return 0;
    if (PyBool_Check(v))
        return append_leaf(cx, v == Py_True ? text_true : text_false, node, key);
    if (PyBytes_CheckExact(v)) { /* decoded, NULs made spaces (binary data is full of them) */
        PyObject *s = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v), "replace");
        if (s == NULL)
            return -1;
        if (memchr(PyBytes_AS_STRING(v), 0, (size_t)PyBytes_GET_SIZE(v)) != NULL) {
            PyObject *nul = PyUnicode_FromOrdinal(0), *space = PyUnicode_FromOrdinal(' ');
            PyObject *t = nul && space ? PyUnicode_Replace(s, nul, space, -1) : NULL;
            Py_XDECREF(nul);
            Py_XDECREF(space);
            Py_DECREF(s);
            if (t == NULL)
                return -1;
            s = t;
        }
        int r = walk_str(s, depth, cx, node, key);
        Py_DECREF(s);
        return r;
    }
    return walk_other(v, depth, cx);
}

/* walk_sinks(payloads, texts, cap, info, nodes) -> (first_leaf, truncated): walk() of each payload, ``cap``
 * leaves each; the index of each payload's first leaf and how many payloads were cut. */
static PyObject *py_walk_sinks(PyObject *self, PyObject *args) {
    PyObject *payloads, *first = NULL;
    Ctx cx;
    Py_ssize_t cap, truncated = 0;
    if (!PyArg_ParseTuple(args, "O!O!nO!O!", &PyList_Type, &payloads, &PyList_Type, &cx.texts, &cap,
                          &PyList_Type, &cx.info, &PyList_Type, &cx.nodes))
        return NULL;
    if (json_loads == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.configure() was not called");
        return NULL;
    }
    first = PyList_New(0);
    if (first == NULL)
        return NULL;
    for (Py_ssize_t s = 0; s < PyList_GET_SIZE(payloads); s++) {
        Py_ssize_t at = PyList_GET_SIZE(cx.texts);
        PyObject *index = PyLong_FromSsize_t(at);
        if (index == NULL || PyList_Append(first, index) < 0) {
            Py_XDECREF(index);
            Py_DECREF(first);
            return NULL;
        }
        Py_DECREF(index);
        cx.cap = at + cap;
        PyObject *payload = PyList_GET_ITEM(payloads, s);
        Py_INCREF(payload);
        int r = walk(payload, 0, &cx, -1, NULL);
        Py_DECREF(payload);
        if (r < 0) {
            Py_DECREF(first);
            return NULL;
        }
        truncated += r;
    }
    return Py_BuildValue("(Nn)", first, truncated);
}

#define BUCKETS 1024
#define BUCKET(c0, c1) ((((unsigned)(c0) * 131u) ^ (unsigned)(c1)) & (BUCKETS - 1))

/* The anchor of a needle: its last longest part between single spaces (search.Needle does the same). */
static void anchor_of(const Py_UCS1 *d, Py_ssize_t n, Py_ssize_t *start, Py_ssize_t *len) {
    Py_ssize_t best = 0, best_len = -1, part = 0;
    for (Py_ssize_t i = 0; i <= n; i++) {
        if (i == n || d[i] == ' ') {
            if (i - part >= best_len) {
                best = part;
                best_len = i - part;
            }
            part = i + 1;
        }
    }
    *start = best;
    *len = best_len;
}

/* Where find() puts what it finds. */
typedef struct {
    PyObject *places; /* list: k, pos per place left to Python */
    PyObject *owner;  /* list: needle -> canon id, or NULL: the needle's own index */
    PyObject *found;  /* dict: canon id -> {leaf start: exact} (search.Found) */
    PyObject *known;  /* dict: leaf start -> leaf index */
} Found;

static int emit(Found *f, Py_ssize_t k, Py_ssize_t pos) {
    PyObject *a = PyLong_FromSsize_t(k), *b = PyLong_FromSsize_t(pos);
    int bad = a == NULL || b == NULL || PyList_Append(f->places, a) < 0 || PyList_Append(f->places, b) < 0;
    Py_XDECREF(a);
    Py_XDECREF(b);
    return bad ? -1 : 0;
}

/* search.record() for a whole needle: the leaf at ``start`` holds needle k (``exact``: as the whole leaf). */
static int record(Found *f, Py_ssize_t k, Py_ssize_t start, int exact, Py_ssize_t leaf) {
    PyObject *cid = f->owner ? PyList_GET_ITEM(f->owner, k) : NULL;
    PyObject *own = cid ? NULL : PyLong_FromSsize_t(k);
    PyObject *pos = PyLong_FromSsize_t(start), *index = PyLong_FromSsize_t(leaf);
    PyObject *flag = exact ? Py_True : Py_False;
    int r = -1;
    if ((cid == NULL && own == NULL) || pos == NULL || index == NULL)
        goto out;
    if (cid == NULL)
        cid = own;
    if (PyDict_SetItem(f->known, pos, index) < 0)
        goto out;
    PyObject *leaves = PyDict_GetItemWithError(f->found, cid);
    if (leaves == NULL) {
        if (PyErr_Occurred())
            goto out;
        leaves = PyDict_New();
        if (leaves == NULL)
            goto out;
        int bad = PyDict_SetItem(leaves, pos, flag) < 0 || PyDict_SetItem(f->found, cid, leaves) < 0;
        Py_DECREF(leaves);
        r = bad ? -1 : 0;
        goto out;
    }
    if (!exact) { /* a whole-leaf match recorded before stays */
        int has = PyDict_Contains(leaves, pos);
        if (has != 0) {
            r = has < 0 ? -1 : 0;
            goto out;
        }
    }
    r = PyDict_SetItem(leaves, pos, flag);
out:
    Py_XDECREF(own);
    Py_XDECREF(pos);
    Py_XDECREF(index);
    return r;
}

/* search.boundary_ok() for text[i:j] of a one-byte text. */
static int boundary_ok(const Py_UCS1 *t, Py_ssize_t n, Py_ssize_t i, Py_ssize_t j) {
    if (i > 0) {
        Py_UCS1 first = t[i], c = t[i - 1];
        if (alnum[first] && (alnum[c] || (c == '.' && Py_UNICODE_ISDIGIT(first) && i > 1 &&
                                          Py_UNICODE_ISDIGIT(t[i - 2]))))
            return 0;
    }
    if (j < n) {
        Py_UCS1 last = t[j - 1], c = t[j];
        if (alnum[last] && (alnum[c] || (c == '.' && Py_UNICODE_ISDIGIT(last) && j + 1 < n &&
                                         Py_UNICODE_ISDIGIT(t[j + 1]))))
            return 0;
    }
    return 1;
}

#if defined(_MSC_VER)
#include <intrin.h>
static int CTZ(uint64_t x) {
    unsigned long i;
    _BitScanForward64(&i, x);
    return (int)i;
}
#define POPCOUNT(x) ((int)__popcnt64(x))
#else
#define CTZ(x) __builtin_ctzll(x)
#define POPCOUNT(x) __builtin_popcountll(x)
#endif

/* Where the last NUL before t[i] is, -1 when there is none. */
static Py_ssize_t last_sep(const Py_UCS1 *t, Py_ssize_t i) {
#ifdef __GLIBC__
    const Py_UCS1 *p = memrchr(t, 0, (size_t)i);
    return p ? p - t : -1;
#else
    while (i > 0 && t[i - 1] != 0)
        i--;
    return i - 1;
#endif
}

/* Needle k whose anchor may start at t[i]: emit what find() reports for it there; -1 on error. */
static int check(Found *f, const Py_UCS1 *t, Py_ssize_t n, Py_ssize_t i, Py_ssize_t leaf, int k,
                 const Py_UCS1 **data, const Py_ssize_t *lens, const char *spaced, Py_ssize_t *resume) {
    Py_ssize_t m = lens[k];
    if (m > n - i || memcmp(t + i, data[k], (size_t)m) != 0)
        return 0;
    if (spaced[k])
        return emit(f, k, i);
    Py_ssize_t j = i + m;
    if (i < resume[k] || !boundary_ok(t, n, i, j))
        return 0;
    /* the leaf: between the separators around the occurrence */
    const Py_UCS1 *sep = memchr(t + j, 0, (size_t)(n - j));
    Py_ssize_t end = sep ? sep - t : n, start = last_sep(t, i) + 1;
    int exact = 1;
    for (Py_ssize_t q = start; exact && q < i; q++)
        exact = Py_UNICODE_ISSPACE(t[q]);
    for (Py_ssize_t q = j; exact && q < end; q++)
        exact = Py_UNICODE_ISSPACE(t[q]);
    resume[k] = end + 1;
    return record(f, k, start, exact, leaf);
}

/* find(text, needles, owner, found, known) -> [k, pos, ...] | None. For each needle (a normalized value or one
 * of its spellings, ``owner[k]`` its canon id; None: k itself) occurring in ``text`` (leaves joined by NUL,
 * see leaves.py):
 * - a needle without spaces found on token boundaries is recorded as search.record() does: in ``found``
 *   (canon id -> {leaf start: whether the needle is the whole leaf but for whitespace}), its first
 *   occurrence per leaf, and the leaf's index in ``known`` (leaf start -> index);
 * - a needle with spaces is returned as (k, pos) for each place its anchor (its last longest part) may start
 *   a match, in text order; the caller matches the other parts around it (search.scan_at); (k, -1): the
 *   anchor is one character and the caller searches for it itself.
 * A needle with characters beyond Latin-1 cannot occur in the text and is left out. None when the text is
 * not one byte per character: the caller searches in Python then. */
static PyObject *py_find(PyObject *self, PyObject *args) {
    PyObject *text, *needles, *owner;
    Found f;
    if (!PyArg_ParseTuple(args, "UO!OO!O!", &text, &PyList_Type, &needles, &owner, &PyDict_Type, &f.found,
                          &PyDict_Type, &f.known))
        return NULL;
    if (owner != Py_None && (!PyList_CheckExact(owner) || PyList_GET_SIZE(owner) != PyList_GET_SIZE(needles))) {
        PyErr_SetString(PyExc_TypeError, "owner is None or a list with one canon id per needle");
        return NULL;
    }
    f.owner = owner == Py_None ? NULL : owner;
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND)
        Py_RETURN_NONE;
    Py_ssize_t na = PyList_GET_SIZE(needles);
    if (na > INT_MAX - 1) {
        PyErr_SetString(PyExc_ValueError, "too many needles");
        return NULL;
    }
    const Py_UCS1 *t = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int heads[2][BUCKETS]; /* [0]: anchors starting with an alphanumeric character, [1]: the others */
    memset(heads, -1, sizeof heads);
    size_t slots = (size_t)(na ? na : 1);
    int *next = PyMem_Malloc(sizeof(int) * slots);
    const Py_UCS1 **data = PyMem_Malloc(sizeof(Py_UCS1 *) * slots);
    Py_ssize_t *lens = PyMem_Malloc(sizeof(Py_ssize_t) * slots);
    Py_ssize_t *resume = PyMem_Malloc(sizeof(Py_ssize_t) * slots); /* whole needles: skip to past this leaf */
    char *spaced = PyMem_Malloc(slots);
    PyObject *out = PyList_New(0);
    f.places = out;
    if (next == NULL || data == NULL || lens == NULL || resume == NULL || spaced == NULL || out == NULL) {
        if (out != NULL)
            PyErr_NoMemory();
        Py_CLEAR(out);
        goto done;
    }
    int any_punct = 0;
    for (Py_ssize_t k = 0; k < na; k++) {
        PyObject *a = PyList_GET_ITEM(needles, k);
        if (!PyUnicode_Check(a)) {
            PyErr_SetString(PyExc_TypeError, "needles are str");
            Py_CLEAR(out);
            goto done;
        }
        if (PyUnicode_KIND(a) != PyUnicode_1BYTE_KIND)
            continue;
        Py_ssize_t start, len, whole = PyUnicode_GET_LENGTH(a);
        anchor_of(PyUnicode_1BYTE_DATA(a), whole, &start, &len);
        if (len < 2) {
            if (emit(&f, k, -1) < 0) {
                Py_CLEAR(out);
                goto done;
            }
            continue;
        }
        data[k] = PyUnicode_1BYTE_DATA(a) + start;
        lens[k] = len;
        resume[k] = 0;
        spaced[k] = len != whole;
        int punct = !alnum[data[k][0]];
        any_punct |= punct;
        unsigned h = BUCKET(data[k][0], data[k][1]);
        next[k] = heads[punct][h];
        heads[punct][h] = (int)k;
    }
    /* 64 places at a time: a bit mask of the alphanumeric ones (table lookups, no branches), from which the
     * token starts (and, if some anchor begins with punctuation, the other places) are visited bit by bit. */
    uint64_t carry = 0;    /* whether the place before this block is alphanumeric */
    Py_ssize_t leaves = 0; /* separators before this block: the index of the leaf it starts in */
    for (Py_ssize_t base = 0; base + 1 < n; base += 64) {
        Py_ssize_t width = n - 1 - base < 64 ? n - 1 - base : 64; /* places i with i + 1 < n */
        uint64_t word = 0, nul = 0; /* alphanumeric places, separators */
        for (Py_ssize_t b = 0; b < width; b++) {
            word |= (uint64_t)alnum[t[base + b]] << b;
            nul |= (uint64_t)(t[base + b] == 0) << b;
        }
        uint64_t valid = width == 64 ? ~(uint64_t)0 : (((uint64_t)1 << width) - 1);
        uint64_t masks[2] = {word & ~((word << 1) | carry), any_punct ? (~word & valid) : 0};
        carry = word >> 63;
        for (int table = 0; table < 2; table++) {
            for (uint64_t bits = masks[table]; bits; bits &= bits - 1) {
                Py_ssize_t i = base + CTZ(bits);
                for (int k = heads[table][BUCKET(t[i], t[i + 1])]; k >= 0; k = next[k]) {
                    Py_ssize_t leaf = leaves + POPCOUNT(nul & (((uint64_t)1 << (i - base)) - 1));
                    if (check(&f, t, n, i, leaf, k, data, lens, spaced, resume) < 0) {
                        Py_CLEAR(out);
                        goto done;
                    }
                }
            }
        }
        leaves += POPCOUNT(nul);
    }
done:
    PyMem_Free(next);
    PyMem_Free(data);
    PyMem_Free(lens);
    PyMem_Free(resume);
    PyMem_Free(spaced);
    return out;
}

/* The noise floor of MatchEngine.normalized() for str, int and float values whose text is one byte per
 * character; everything else goes to ``fallback`` (normalized() itself). Same steps, same order. */
typedef struct {
    PyObject *stop_list;
    Py_ssize_t min_length, min_digits, min_distinct;
    double min_entropy, max_share;
} Floor;

/* ``norm`` (one byte per character) passes the floor: 1, fails: 0, error: -1. */
static int passes(PyObject *norm, int numeric, const Floor *f) {
    const Py_UCS1 *d = PyUnicode_1BYTE_DATA(norm);
    Py_ssize_t n = PyUnicode_GET_LENGTH(norm);
    if (memchr(d, 0, (size_t)n) != NULL) /* NUL separates leaves in the searched text */
        return 0;
    if (n < f->min_length)
        return 0;
    int stop = PySet_Contains(f->stop_list, norm);
    if (stop != 0)
        return stop < 0 ? -1 : 0;
    if (numeric) {
        Py_ssize_t digits = 0;
        for (Py_ssize_t i = 0; i < n; i++)
            digits += Py_UNICODE_ISDIGIT(d[i]) ? 1 : 0;
        if (digits < f->min_digits)
            return 0;
    }
    if (f->min_entropy > 0) {
        Py_ssize_t counts[256] = {0}, k = 0;
        for (Py_ssize_t i = 0; i < n; i++)
            k += counts[d[i]]++ == 0;
        if (k < f->min_distinct)
            return 0;
        if ((double)(n - k + 1) > (double)n * f->max_share) { /* noise.entropy_at_least() */
            if (k <= 1 || log2((double)k) < f->min_entropy)
                return 0;
            if (!(-log2((double)(n - k + 1) / (double)n) >= f->min_entropy)) {
                double total = 0.0;
                for (int c = 0; c < 256; c++)
                    if (counts[c]) {
                        double p = (double)counts[c] / (double)n;
                        total -= p * log2(p);
                    }
                if (total < f->min_entropy)
                    return 0;
            }
        }
    }
    return 1;
}

/* Lower case, whitespace runs to one space, ends stripped (normalize.norm_text) of a one-byte str; NULL and
 * *empty = 1 when nothing is left. *numeric: the text looks like a number (engine._NUMERIC_RE). */
static PyObject *norm_str(PyObject *v, int *numeric, int *empty) {
    const Py_UCS1 *d = PyUnicode_1BYTE_DATA(v);
    Py_ssize_t n = PyUnicode_GET_LENGTH(v);
    Py_UCS1 small[256];
    Py_UCS1 *buf = n <= 256 ? small : PyMem_Malloc((size_t)n);
    if (buf == NULL)
        return PyErr_NoMemory();
    Py_ssize_t m = 0;
    int pending_space = 0, same = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS1 c = d[i];
        if (Py_UNICODE_ISSPACE(c)) {
            pending_space = m > 0;
            same &= c == ' ' && m > 0 && i + 1 < n && !Py_UNICODE_ISSPACE(d[i + 1]);
            continue;
        }
        if (pending_space)
            buf[m++] = ' ';
        pending_space = 0;
        Py_UCS4 low = Py_UNICODE_TOLOWER(c);
        same &= low == c;
        buf[m++] = (Py_UCS1)low; /* Latin-1 lower-cases within Latin-1 */
    }
    *empty = m == 0;
    int sign = m > 0 && (buf[0] == '+' || buf[0] == '-');
    int num = m > 0 && strchr("+-.,0123456789", buf[0]) != NULL && buf[0] != 0;
    int decimals = 0;
    for (Py_ssize_t i = sign; num && i < m; i++) {
        if (Py_UNICODE_ISDECIMAL(buf[i]))
            decimals = 1;
        else if (buf[i] != '.' && buf[i] != ',')
            num = 0;
    }
    *numeric = num && decimals;
    PyObject *out = NULL;
    if (m > 0) {
        if (same && m == n) {
            out = v;
            Py_INCREF(out);
        } else {
            out = PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, buf, m);
        }
    }
    if (buf != small)
        PyMem_Free(buf);
    return out;
}

/* One value: a new reference to its normalized text, Py_None when it does not pass, NULL on error. */
static PyObject *normalize_one(PyObject *v, const Floor *f, PyObject *normalized) {
    PyObject *norm = NULL;
    int numeric = 1, empty = 0;
    if (PyUnicode_CheckExact(v) && PyUnicode_KIND(v) == PyUnicode_1BYTE_KIND) {
        norm = norm_str(v, &numeric, &empty);
        if (norm == NULL) {
            if (!empty)
                return NULL;
            Py_RETURN_NONE;
        }
    } else if (PyLong_CheckExact(v)) {
        norm = PyObject_Str(v);
        if (norm == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_ValueError))
                return NULL;
            PyErr_Clear();
            Py_RETURN_NONE;
        }
    } else if (PyFloat_CheckExact(v)) {
        norm = float_text(v);
        if (norm == NULL || norm == Py_None)
            return norm;
    } else {
        return PyObject_CallOneArg(normalized, v);
    }
    if (!PyUnicode_Check(norm) || PyUnicode_KIND(norm) != PyUnicode_1BYTE_KIND) {
        Py_DECREF(norm);
        return PyObject_CallOneArg(normalized, v);
    }
    int ok = passes(norm, numeric, f);
    if (ok == 1)
        return norm;
    Py_DECREF(norm);
    if (ok < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* normalize(values, normalized, stop_list, min_length, min_digits, min_entropy, min_distinct, max_share)
 * -> [str | None, ...]: MatchEngine.normalized() of each value. */
static PyObject *py_normalize(PyObject *self, PyObject *args) {
    PyObject *values, *normalized;
    Floor f;
    if (!PyArg_ParseTuple(args, "O!OO!nndnd", &PyList_Type, &values, &normalized, &PyFrozenSet_Type, &f.stop_list,
                          &f.min_length, &f.min_digits, &f.min_entropy, &f.min_distinct, &f.max_share))
        return NULL;
    if (json_loads == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.configure() was not called");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(values);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n && i < PyList_GET_SIZE(values); i++) {
        PyObject *v = PyList_GET_ITEM(values, i);
        Py_INCREF(v);
        PyObject *r = normalize_one(v, &f, normalized);
        Py_DECREF(v);
        if (r == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, r);
    }
    for (Py_ssize_t i = PyList_GET_SIZE(values); i < n; i++) { /* the list shrank meanwhile */
        Py_INCREF(Py_None);
        PyList_SET_ITEM(out, i, Py_None);
    }
    return out;
}

/* join_lower(texts, max_chars) -> str | None: "\0".join(texts).lower() with a NUL inside a leaf made a space,
 * in one pass (leaves.RequestText). None when a text is not one byte per character or the result would be
 * longer than max_chars: the caller does it in Python then. */
static PyObject *py_join_lower(PyObject *self, PyObject *args) {
    PyObject *texts;
    Py_ssize_t max_chars;
    if (!PyArg_ParseTuple(args, "O!n", &PyList_Type, &texts, &max_chars))
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(texts), total = count > 0 ? count - 1 : 0;
    int ascii = 1;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *leaf = PyList_GET_ITEM(texts, k);
        if (!PyUnicode_Check(leaf) || PyUnicode_KIND(leaf) != PyUnicode_1BYTE_KIND)
            Py_RETURN_NONE;
        ascii &= PyUnicode_IS_ASCII(leaf) ? 1 : 0;
        total += PyUnicode_GET_LENGTH(leaf);
        if (total > max_chars)
            Py_RETURN_NONE;
    }
    PyObject *out = PyUnicode_New(total, ascii ? 127 : 255);
    if (out == NULL)
        return NULL;
    Py_UCS1 *d = PyUnicode_1BYTE_DATA(out);
    Py_ssize_t at = 0;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *leaf = PyList_GET_ITEM(texts, k);
        const Py_UCS1 *src = PyUnicode_1BYTE_DATA(leaf);
        Py_ssize_t len = PyUnicode_GET_LENGTH(leaf);
        if (k > 0)
            d[at++] = 0;
        Py_UCS1 *dst = d + at;
        if (PyUnicode_IS_ASCII(leaf)) { /* arithmetic, so the compiler can use vector instructions */
            for (Py_ssize_t i = 0; i < len; i++) {
                Py_UCS1 c = src[i];
                Py_UCS1 low = (Py_UCS1)(c | ((unsigned)(c - 'A') < 26u ? 0x20 : 0));
                dst[i] = c ? low : ' ';
            }
        } else {
            for (Py_ssize_t i = 0; i < len; i++)
                dst[i] = lower[src[i]];
        }
        at += len;
    }
    return out;
}

static PyObject *py_configure(PyObject *self, PyObject *args) {
    PyObject *loads, *other;
    const char *table;
    Py_ssize_t table_len;
    int depth;
    if (!PyArg_ParseTuple(args, "OOy#i", &loads, &other, &table, &table_len, &depth))
        return NULL;
    if (table_len != 256) {
        PyErr_SetString(PyExc_ValueError, "the alphanumeric table has 256 entries");
        return NULL;
    }
    Py_INCREF(loads);
    Py_INCREF(other);
    Py_XSETREF(json_loads, loads);
    Py_XSETREF(fallback, other);
    if (text_true == NULL && ((text_true = PyUnicode_InternFromString("true")) == NULL ||
                              (text_false = PyUnicode_InternFromString("false")) == NULL))
        return NULL;
    memcpy(alnum, table, 256);
    for (int c = 0; c < 256; c++)
        lower[c] = c == 0 ? ' ' : (Py_UCS1)Py_UNICODE_TOLOWER(c);
    max_depth = depth;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"configure", py_configure, METH_VARARGS,
     "configure(json_loads, fallback, alnum_table, max_depth): the Python parts the C code calls."},
    {"normalize", py_normalize, METH_VARARGS,
     "normalize(values, normalized, stop_list, min_length, min_digits, min_entropy, min_distinct, max_share)."},
    {"walk_sinks", py_walk_sinks, METH_VARARGS,
     "walk_sinks(payloads, texts, cap, info, nodes) -> (first_leaf, truncated): walk() of each payload."},
    {"join_lower", py_join_lower, METH_VARARGS,
     "join_lower(texts, max_chars) -> str | None: the leaves joined by NUL and lower-cased."},
    {"find", py_find, METH_VARARGS, "find(text, needles, owner, found, known) -> [k, pos, ...] | None: record where needles occur."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", "The matcher's hot loops in C.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
