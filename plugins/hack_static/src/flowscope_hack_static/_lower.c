/* Hack and C++ expressions lowered to the IR in C: the twin of tsfront._Lowering.expr and its helpers
 * (_call, _string, _array, _literal), which stay the reference and run where this is not built.
 *
 * Nothing of tree-sitter is compiled in. The functions of its C API are looked up at run time in the module
 * of the py-tree-sitter bindings (tree-sitter==0.21.3, pinned: its Node object's layout is read here), so
 * parsing and lowering see the same runtime. Node kinds are compared as symbol ids, mapped once per
 * language from their names; IR objects are made by writing their slots directly (their dataclass __init__
 * only assigns fields). tsfront checks the layout on a parsed file before it uses this, and the tests
 * compare both lowerings on every corpus and test file.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h> /* PyMemberDef, read for the slot offsets */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef uint16_t TSSymbol;
typedef uint16_t TSFieldId;
typedef struct { uint32_t context[4]; const void *id; const void *tree; } TSNode;
typedef struct { const void *tree; const void *id; uint32_t context[2]; } TSTreeCursor;
typedef struct { uint32_t row; uint32_t column; } TSPoint;

typedef struct { PyObject_HEAD TSNode node; PyObject *children; PyObject *tree; } PyNode; /* py-tree-sitter 0.21 */

static struct {
    TSSymbol (*symbol)(TSNode);
    uint32_t (*start_byte)(TSNode);
    TSPoint (*start_point)(TSNode);
    uint32_t (*end_byte)(TSNode);
    uint32_t (*named_child_count)(TSNode);
    TSNode (*named_child)(TSNode, uint32_t);
    TSNode (*child_by_field_id)(TSNode, TSFieldId);
    bool (*is_null)(TSNode);
    bool (*is_named)(TSNode);
    TSTreeCursor (*cursor_new)(TSNode);
    void (*cursor_delete)(TSTreeCursor *);
    bool (*cursor_first_child)(TSTreeCursor *);
    bool (*cursor_next_sibling)(TSTreeCursor *);
    TSNode (*cursor_node)(const TSTreeCursor *);
    const void *(*tree_language)(const void *);
    uint32_t (*symbol_count)(const void *);
    const char *(*symbol_name)(const void *, TSSymbol);
    TSFieldId (*field_id)(const void *, const char *, uint32_t);
} ts;
static int ts_ready = 0;

enum {
    K_OTHER, K_VAR, K_SCOPED, K_CALL, K_STRING, K_STRING_LITERAL, K_RAW_STRING, K_CONCAT, K_LITERAL,
    K_LAMBDA, K_WRAPPER, K_SUBSCRIPT, K_SUBSCRIPT_ARGS, K_SELECTION, K_ARRAY, K_BINARY, K_COMMENT,
    K_ARGUMENT, K_ARGUMENTS, K_ELEMENT_INIT, K_ARRAY_SKIP,
    /* statements; in an expression these are K_OTHER's generic case, except K_UNWRAP (a wrapper) */
    K_UNWRAP, K_ASSIGN, K_EXPR_STMT, K_BLOCK, K_IF, K_LOOP, K_FOREACH, K_RANGE_LOOP, K_RETURN, K_DECLARATION,
    K_INIT_DECLARATOR, K_THROW, K_NEW, K_INIT_LIST, K_CLASS_TYPE, K_FUNC_DECL, K_PARAM_DECL,
    K_IDENT, K_QUALIFIED, /* K_VAR's "identifier" and "qualified_identifier", told apart in declarations */
};
static const struct { const char *name; uint8_t kind; } KINDS[] = {
    {"variable", K_VAR}, {"identifier", K_IDENT}, {"field_identifier", K_VAR}, {"this", K_VAR},
    {"qualified_identifier", K_QUALIFIED}, {"scoped_identifier", K_SCOPED},
    {"call_expression", K_CALL},
    {"string", K_STRING}, {"heredoc", K_STRING}, {"string_literal", K_STRING_LITERAL},
    {"raw_string_literal", K_RAW_STRING}, {"concatenated_string", K_CONCAT},
    {"true", K_LITERAL}, {"false", K_LITERAL}, {"null", K_LITERAL}, {"integer", K_LITERAL},
    {"float", K_LITERAL}, {"number_literal", K_LITERAL}, {"nullptr", K_LITERAL},
    {"lambda_expression", K_LAMBDA}, {"anonymous_function_creation_expression", K_LAMBDA},
    {"parenthesized_expression", K_UNWRAP}, {"prefix_unary_expression", K_UNWRAP},
    {"await_expression", K_UNWRAP}, {"argument", K_ARGUMENT}, {"pointer_expression", K_WRAPPER},
    {"cast_expression", K_WRAPPER}, {"condition_clause", K_WRAPPER}, {"reference_declarator", K_WRAPPER},
    {"pointer_declarator", K_WRAPPER},
    {"subscript_expression", K_SUBSCRIPT}, {"subscript_argument_list", K_SUBSCRIPT_ARGS},
    {"selection_expression", K_SELECTION}, {"field_expression", K_SELECTION},
    {"array", K_ARRAY}, {"binary_expression", K_BINARY}, {"comment", K_COMMENT},
    {"arguments", K_ARGUMENTS}, {"argument_list", K_ARGUMENTS},
    {"element_initializer", K_ELEMENT_INIT}, {"array_type", K_ARRAY_SKIP}, {"type_arguments", K_ARRAY_SKIP},
    {"collection", K_ARRAY}, {"shape", K_ARRAY}, {"field_initializer", K_ELEMENT_INIT}, /* Hack: Map {...} */
    {"assignment_expression", K_ASSIGN}, {"expression_statement", K_EXPR_STMT},
    {"compound_statement", K_BLOCK}, {"else_clause", K_BLOCK}, {"declaration_list", K_BLOCK},
    {"if_statement", K_IF}, {"for_statement", K_LOOP}, {"while_statement", K_LOOP}, {"do_statement", K_LOOP},
    {"foreach_statement", K_FOREACH}, {"for_range_loop", K_RANGE_LOOP}, {"return_statement", K_RETURN},
    {"declaration", K_DECLARATION}, {"init_declarator", K_INIT_DECLARATOR},
    /* tsfront._BLOCKS, _RETURNS, _ENDS and the C++ declarations of a class's value */
    {"try_statement", K_BLOCK}, {"catch_clause", K_BLOCK}, {"finally_clause", K_BLOCK},
    {"switch_statement", K_BLOCK}, {"switch_case", K_BLOCK}, {"switch_default", K_BLOCK},
    {"case_statement", K_BLOCK}, {"labeled_statement", K_BLOCK}, {"co_return_statement", K_RETURN},
    {"throw_statement", K_THROW}, {"new_expression", K_NEW}, {"initializer_list", K_INIT_LIST},
    {"type_identifier", K_CLASS_TYPE}, {"template_type", K_CLASS_TYPE}, {"function_declarator", K_FUNC_DECL},
    {"parameter_declaration", K_PARAM_DECL},
};
#define SYM_ERROR 65535 /* tree-sitter's ERROR nodes: a block of statements, K_BLOCK */

/* The IR classes, in this order, and the offsets of their slots */
enum { C_VAR, C_SUB, C_LIT, C_CALL, C_DICT, C_TMPL, C_OTHER, C_STMT, N_CLASSES };
static const char *FIELDS[N_CLASSES][7] = {
    {"name"}, {"base", "key"}, {"value"}, {"callee", "args", "kwargs", "receiver"},
    {"entries"}, {"parts"}, {"parts"},
    {"value", "line", "snippet", "target", "guards", "is_return", "in_loop"},
};
enum {
    F_FUNCTION, F_ARGUMENTS, F_LEFT, F_RIGHT, F_OPERATOR, F_CONDITION, F_BODY, F_DECLARATOR, F_VALUE, F_TYPE,
    F_PARAMETERS, N_FIELDS
};
static const char *FIELD_NAMES[N_FIELDS] = {
    "function", "arguments", "left", "right", "operator", "condition", "body", "declarator", "value", "type",
    "parameters",
};
/* ir.BOOLEAN_OPS that a Hack or C++ binary expression can have */
static const char *BOOLEAN_OPS[] = {"==", "!=", "===", "!==", "<", ">", "<=", ">=", "<=>", "&&", "||", "and", "or",
                                    "instanceof"};

typedef struct {
    PyObject_HEAD
    PyObject *source;   /* bytes */
    const char *src;
    Py_ssize_t len;
    uint8_t *kinds;     /* symbol id -> K_* (the grammar's table) */
    uint32_t nkinds;
    TSFieldId fields[N_FIELDS];
    PyObject *classes[N_CLASSES];
    Py_ssize_t offsets[N_CLASSES][7];
    PyObject *lines;    /* list of the source's lines (str), for snippets */
    PyObject *strip_parens; /* callable: a condition's text -> its guard */
    PyObject *vars;     /* dict: variable text (bytes) -> Var */
    PyObject *callees;  /* dict: callee text -> normalized */
    PyObject *calls;    /* list: the current function's callee texts */
    PyObject *interp;   /* callable: Hack string content with $ -> Lit or Tmpl */
    PyObject *node_type;
    PyObject *empty_tuple, *empty_str;
} Lowerer;

static PyObject *S_COLONS, *S_DYNAMIC;

static PyObject *make(Lowerer *self, int cls, int n, PyObject **values) {
    /* values are stolen; NULL in values means an error already set */
    for (int i = 0; i < n; i++) {
        if (values[i] == NULL) {
            for (int j = 0; j < n; j++) Py_XDECREF(values[j]);
            return NULL;
        }
    }
    PyTypeObject *type = (PyTypeObject *)self->classes[cls];
    PyObject *obj = type->tp_alloc(type, 0);
    if (obj == NULL) {
        for (int j = 0; j < n; j++) Py_DECREF(values[j]);
        return NULL;
    }
    for (int i = 0; i < n; i++) *(PyObject **)((char *)obj + self->offsets[cls][i]) = values[i];
    return obj;
}

static PyObject *make1(Lowerer *self, int cls, PyObject *v) { return make(self, cls, 1, &v); }

static PyObject *other_empty(Lowerer *self) { return make1(self, C_OTHER, Py_NewRef(self->empty_tuple)); }

static inline uint8_t kind_of(Lowerer *self, TSNode n) {
    TSSymbol s = ts.symbol(n);
    return s < self->nkinds ? self->kinds[s] : (s == SYM_ERROR ? K_BLOCK : K_OTHER);
}

static PyObject *text(Lowerer *self, TSNode n) {
    uint32_t a = ts.start_byte(n), b = ts.end_byte(n);
    if (b > self->len) b = (uint32_t)self->len;
    if (a > b) a = b;
    return PyUnicode_DecodeUTF8(self->src + a, b - a, "replace");
}

/* A node's named children (py-tree-sitter's named_children), in a buffer the caller frees */
typedef struct { TSNode *items; uint32_t n; TSNode local[8]; } Children;

static int named_children(TSNode n, Children *out) {
    out->items = out->local;
    out->n = 0;
    uint32_t cap = 8;
    TSTreeCursor c = ts.cursor_new(n);
    if (ts.cursor_first_child(&c)) {
        do {
            TSNode child = ts.cursor_node(&c);
            if (!ts.is_named(child)) continue;
            if (out->n == cap) {
                TSNode *grown = PyMem_Malloc(sizeof(TSNode) * cap * 2);
                if (grown == NULL) {
                    ts.cursor_delete(&c);
                    if (out->items != out->local) PyMem_Free(out->items);
                    PyErr_NoMemory();
                    return -1;
                }
                memcpy(grown, out->items, sizeof(TSNode) * cap);
                if (out->items != out->local) PyMem_Free(out->items);
                out->items = grown;
                cap *= 2;
            }
            out->items[out->n++] = child;
        } while (ts.cursor_next_sibling(&c));
    }
    ts.cursor_delete(&c);
    return 0;
}

static void children_free(Children *c) {
    if (c->items != c->local) PyMem_Free(c->items);
}

static PyObject *expr(Lowerer *self, TSNode n);

static PyObject *expr_or_other(Lowerer *self, TSNode n) {
    return ts.is_null(n) ? other_empty(self) : expr(self, n);
}

/* The value of a Lit, else None (tsfront._literal); a new reference */
static PyObject *lit_value(Lowerer *self, PyObject *e) {
    if (Py_TYPE(e) == (PyTypeObject *)self->classes[C_LIT]) {
        return Py_NewRef(*(PyObject **)((char *)e + self->offsets[C_LIT][0]));
    }
    Py_RETURN_NONE;
}

/* tsnodes.tmpl_parts, appended to a list */
static int tmpl_parts(Lowerer *self, PyObject *e, PyObject *out) {
    if (Py_TYPE(e) == (PyTypeObject *)self->classes[C_TMPL]) {
        PyObject *parts = *(PyObject **)((char *)e + self->offsets[C_TMPL][0]);
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(parts); i++) {
            if (PyList_Append(out, PyTuple_GET_ITEM(parts, i)) < 0) return -1;
        }
        return 0;
    }
    if (Py_TYPE(e) == (PyTypeObject *)self->classes[C_LIT]) {
        PyObject *v = *(PyObject **)((char *)e + self->offsets[C_LIT][0]);
        if (v != Py_None) return PyList_Append(out, v);
    }
    return PyList_Append(out, e);
}

static PyObject *var(Lowerer *self, TSNode n, int scoped) {
    uint32_t a = ts.start_byte(n), b = ts.end_byte(n);
    if (b > self->len) b = (uint32_t)self->len;
    if (a > b) a = b;
    PyObject *key = NULL;
    if (!scoped) {
        key = PyBytes_FromStringAndSize(self->src + a, b - a);
        if (key == NULL) return NULL;
        PyObject *hit = PyDict_GetItemWithError(self->vars, key);
        if (hit != NULL) {
            Py_DECREF(key);
            return Py_NewRef(hit);
        }
        if (PyErr_Occurred()) {
            Py_DECREF(key);
            return NULL;
        }
    }
    while (a < b && self->src[a] == '$') a++; /* lstrip("$"): ASCII, so on the bytes */
    PyObject *name = PyUnicode_DecodeUTF8(self->src + a, b - a, "replace");
    if (name == NULL) {
        Py_XDECREF(key);
        return NULL;
    }
    if (scoped) { /* text.split("::")[-1] */
        Py_ssize_t at = PyUnicode_Find(name, S_COLONS, 0, PY_SSIZE_T_MAX, -1);
        if (at == -2) {
            Py_DECREF(name);
            return NULL;
        }
        if (at >= 0) {
            PyObject *tail = PyUnicode_Substring(name, at + 2, PY_SSIZE_T_MAX);
            Py_DECREF(name);
            if (tail == NULL) return NULL;
            name = tail;
        }
        return make1(self, C_VAR, name);
    }
    PyObject *v = make1(self, C_VAR, name);
    if (v == NULL || PyDict_SetItem(self->vars, key, v) < 0) {
        Py_DECREF(key);
        Py_XDECREF(v);
        return NULL;
    }
    Py_DECREF(key);
    return v;
}

/* tsfront._string */
static PyObject *string(Lowerer *self, TSNode n, uint8_t kind) {
    if (kind == K_CONCAT) {
        Children ch;
        if (named_children(n, &ch) < 0) return NULL;
        PyObject *parts = PyList_New(0);
        for (uint32_t i = 0; parts != NULL && i < ch.n; i++) {
            PyObject *e = string(self, ch.items[i], kind_of(self, ch.items[i]));
            if (e == NULL || tmpl_parts(self, e, parts) < 0) Py_CLEAR(parts);
            Py_XDECREF(e);
        }
        children_free(&ch);
        if (parts == NULL) return NULL;
        PyObject *t = PyList_AsTuple(parts);
        Py_DECREF(parts);
        return make1(self, C_TMPL, t);
    }
    PyObject *raw = text(self, n);
    if (raw == NULL) return NULL;
    Py_ssize_t len = PyUnicode_GET_LENGTH(raw);
    Py_UCS4 first = len ? PyUnicode_READ_CHAR(raw, 0) : 0;
    PyObject *content;
    if (kind == K_STRING_LITERAL || kind == K_RAW_STRING || first == '\'') {
        content = (first == '\'' || first == '"') ? PyUnicode_Substring(raw, 1, len - 1 > 1 ? len - 1 : 1)
                                                 : Py_NewRef(raw);
        Py_DECREF(raw);
        return make1(self, C_LIT, content);
    }
    content = first == '"' ? PyUnicode_Substring(raw, 1, len - 1 > 1 ? len - 1 : 1) : Py_NewRef(raw);
    Py_DECREF(raw);
    if (content == NULL) return NULL;
    int has = PyUnicode_FindChar(content, '$', 0, PyUnicode_GET_LENGTH(content), 1) >= 0;
    if (!has) return make1(self, C_LIT, content);
    PyObject *out = PyObject_CallOneArg(self->interp, content); /* Hack interpolation: the Python reading */
    Py_DECREF(content);
    return out;
}

/* tsnodes.pairs */
static PyObject *pairs(Lowerer *self, PyObject *args, PyObject *base) {
    Py_ssize_t n = PyTuple_GET_SIZE(args), nb = base ? PyTuple_GET_SIZE(base) : 0;
    Py_ssize_t count = n >= 2 ? n / 2 : 0;
    PyObject *out = PyTuple_New(nb + count);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < nb; i++) PyTuple_SET_ITEM(out, i, Py_NewRef(PyTuple_GET_ITEM(base, i)));
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *key = lit_value(self, PyTuple_GET_ITEM(args, 2 * i));
        PyObject *pair = PyTuple_Pack(2, key, PyTuple_GET_ITEM(args, 2 * i + 1));
        Py_DECREF(key);
        if (pair == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, nb + i, pair);
    }
    return out;
}

/* tsfront._callee: the text without whitespace (str.split's) and "$" */
static PyObject *callee_of(Lowerer *self, PyObject *fn_text) {
    PyObject *hit = PyDict_GetItemWithError(self->callees, fn_text);
    if (hit != NULL) return Py_NewRef(hit);
    if (PyErr_Occurred()) return NULL;
    Py_ssize_t len = PyUnicode_GET_LENGTH(fn_text);
    int kind = PyUnicode_KIND(fn_text);
    const void *data = PyUnicode_DATA(fn_text);
    Py_UCS4 *buf = PyMem_Malloc(sizeof(Py_UCS4) * (len ? len : 1));
    if (buf == NULL) return PyErr_NoMemory();
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (ch != '$' && !Py_UNICODE_ISSPACE(ch)) buf[k++] = ch;
    }
    PyObject *out = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, k);
    PyMem_Free(buf);
    if (out == NULL) return NULL;
    if (PyDict_SetItem(self->callees, fn_text, out) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

static PyObject *call(Lowerer *self, TSNode n) {
    TSNode fn = ts.child_by_field_id(n, self->fields[F_FUNCTION]);
    if (ts.is_null(fn)) fn = ts.named_child(n, 0);
    TSNode args_node = ts.child_by_field_id(n, self->fields[F_ARGUMENTS]);
    Children ch;
    if (named_children(n, &ch) < 0) return NULL;
    if (ts.is_null(args_node)) { /* Hack's calls name no field for their arguments */
        for (uint32_t i = 0; i < ch.n; i++) {
            if (kind_of(self, ch.items[i]) == K_ARGUMENTS) {
                args_node = ch.items[i];
                break;
            }
        }
    }
    children_free(&ch);
    PyObject *args;
    if (!ts.is_null(args_node)) {
        if (named_children(args_node, &ch) < 0) return NULL;
        PyObject *list = PyList_New(0);
        for (uint32_t i = 0; list != NULL && i < ch.n; i++) {
            TSNode a = ch.items[i];
            uint8_t kind = kind_of(self, a);
            if (kind == K_ARGUMENT) { /* Hack wraps each argument */
                uint32_t count = ts.named_child_count(a);
                if (count) {
                    a = ts.named_child(a, count - 1);
                    kind = kind_of(self, a);
                }
            }
            if (kind == K_COMMENT) continue;
            PyObject *e = expr(self, a);
            if (e == NULL || PyList_Append(list, e) < 0) Py_CLEAR(list);
            Py_XDECREF(e);
        }
        children_free(&ch);
        if (list == NULL) return NULL;
        args = PyList_AsTuple(list);
        Py_DECREF(list);
        if (args == NULL) return NULL;
    } else {
        args = Py_NewRef(self->empty_tuple);
    }
    if (ts.is_null(fn)) { /* no function child at all: as Python, which would fail; keep the arguments */
        return make1(self, C_OTHER, args);
    }
    uint8_t fn_kind = kind_of(self, fn);
    PyObject *fn_text = text(self, fn);
    if (fn_text == NULL) {
        Py_DECREF(args);
        return NULL;
    }
    if (fn_kind == K_CALL) {
        int has = PyUnicode_Contains(fn_text, S_DYNAMIC);
        if (has < 0) goto fail_text;
        if (has) { /* folly::dynamic::object("k", v)("k2", v2): a struct literal */
            Py_DECREF(fn_text);
            PyObject *inner = call(self, fn);
            if (inner == NULL) {
                Py_DECREF(args);
                return NULL;
            }
            PyObject *base = Py_TYPE(inner) == (PyTypeObject *)self->classes[C_DICT]
                                 ? *(PyObject **)((char *)inner + self->offsets[C_DICT][0])
                                 : self->empty_tuple;
            PyObject *entries = pairs(self, args, base);
            Py_DECREF(inner);
            Py_DECREF(args);
            return make1(self, C_DICT, entries);
        }
    }
    PyObject *callee = callee_of(self, fn_text);
    Py_DECREF(fn_text);
    if (callee == NULL) {
        Py_DECREF(args);
        return NULL;
    }
    int dyn = PyUnicode_Tailmatch(callee, S_DYNAMIC, 0, PY_SSIZE_T_MAX, 1);
    if (dyn < 0) goto fail_callee;
    if (dyn) {
        Py_DECREF(callee);
        PyObject *entries = pairs(self, args, NULL);
        Py_DECREF(args);
        return make1(self, C_DICT, entries);
    }
    PyObject *receiver;
    if (fn_kind == K_SELECTION && ts.named_child_count(fn)) {
        receiver = expr(self, ts.named_child(fn, 0));
        if (receiver == NULL) goto fail_callee;
    } else {
        receiver = Py_NewRef(Py_None);
    }
    if (PyList_Append(self->calls, callee) < 0) {
        Py_DECREF(receiver);
        goto fail_callee;
    }
    PyObject *values[4] = {callee, args, Py_NewRef(self->empty_tuple), receiver};
    return make(self, C_CALL, 4, values);
fail_text:
    Py_DECREF(fn_text);
    Py_DECREF(args);
    return NULL;
fail_callee:
    Py_DECREF(callee);
    Py_DECREF(args);
    return NULL;
}

/* tsfront._made: Call(<the type's callee text>, args); steals args */
static PyObject *made(Lowerer *self, TSNode typ, PyObject *args) {
    PyObject *t = text(self, typ);
    PyObject *callee = t ? callee_of(self, t) : NULL;
    Py_XDECREF(t);
    if (callee == NULL || PyList_Append(self->calls, callee) < 0) {
        Py_XDECREF(callee);
        Py_DECREF(args);
        return NULL;
    }
    PyObject *values[4] = {callee, args, Py_NewRef(self->empty_tuple), Py_NewRef(Py_None)};
    return make(self, C_CALL, 4, values);
}

/* The expressions of a node's named children (no comments; Hack's argument wrappers opened), as a tuple */
static PyObject *exprs_of(Lowerer *self, TSNode n, int unwrap_argument) {
    Children ch;
    if (named_children(n, &ch) < 0) return NULL;
    PyObject *list = PyList_New(0);
    for (uint32_t i = 0; list != NULL && i < ch.n; i++) {
        TSNode a = ch.items[i];
        if (unwrap_argument && kind_of(self, a) == K_ARGUMENT && ts.named_child_count(a)) {
            a = ts.named_child(a, ts.named_child_count(a) - 1);
        }
        if (kind_of(self, a) == K_COMMENT) continue;
        PyObject *e = expr(self, a);
        if (e == NULL || PyList_Append(list, e) < 0) Py_CLEAR(list);
        Py_XDECREF(e);
    }
    children_free(&ch);
    if (list == NULL) return NULL;
    PyObject *out = PyList_AsTuple(list);
    Py_DECREF(list);
    return out;
}

/* tsfront: new SendGrid\Email(), new Users(): a call of the class */
static PyObject *new_expression(Lowerer *self, Children *ch) {
    TSNode typ = {0}, args_node = {0};
    int has_typ = 0, has_args = 0;
    for (uint32_t i = 0; i < ch->n; i++) {
        uint8_t k = kind_of(self, ch->items[i]);
        if (k == K_ARGUMENTS || k == K_INIT_LIST) {
            if (!has_args) args_node = ch->items[i];
            has_args = 1;
        } else if (!has_typ) {
            typ = ch->items[i];
            has_typ = 1;
        }
    }
    PyObject *args = has_args ? exprs_of(self, args_node, 1) : Py_NewRef(self->empty_tuple);
    if (args == NULL) return NULL;
    if (!has_typ) return make1(self, C_OTHER, args);
    return made(self, typ, args);
}

static PyObject *array(Lowerer *self, Children *ch) {
    PyObject *list = PyList_New(0);
    for (uint32_t i = 0; list != NULL && i < ch->n; i++) {
        TSNode el = ch->items[i];
        uint8_t kind = kind_of(self, el);
        PyObject *key, *value;
        if (kind == K_ELEMENT_INIT && ts.named_child_count(el) == 2) {
            PyObject *k = expr(self, ts.named_child(el, 0));
            if (k == NULL) {
                Py_CLEAR(list);
                break;
            }
            key = lit_value(self, k);
            Py_DECREF(k);
            value = expr(self, ts.named_child(el, 1));
        } else if (kind != K_ARRAY_SKIP && kind != K_COMMENT) {
            key = Py_NewRef(Py_None);
            value = expr(self, el);
        } else {
            continue;
        }
        PyObject *pair = value ? PyTuple_Pack(2, key, value) : NULL;
        Py_DECREF(key);
        Py_XDECREF(value);
        if (pair == NULL || PyList_Append(list, pair) < 0) Py_CLEAR(list);
        Py_XDECREF(pair);
    }
    if (list == NULL) return NULL;
    PyObject *entries = PyList_AsTuple(list);
    Py_DECREF(list);
    return make1(self, C_DICT, entries);
}

static PyObject *expr_inner(Lowerer *self, TSNode n) {
    uint8_t kind = kind_of(self, n);
    switch (kind) {
    case K_VAR:
    case K_IDENT:
    case K_QUALIFIED:
        return var(self, n, 0);
    case K_SCOPED:
        return var(self, n, 1);
    case K_CALL:
        return call(self, n);
    case K_STRING:
    case K_STRING_LITERAL:
    case K_RAW_STRING:
    case K_CONCAT:
        return string(self, n, kind);
    case K_LITERAL:
        return make1(self, C_LIT, Py_NewRef(Py_None));
    case K_LAMBDA:
        return other_empty(self);
    case K_WRAPPER:
    case K_UNWRAP:
    case K_ARGUMENT: {
        uint32_t count = ts.named_child_count(n);
        return count ? expr(self, ts.named_child(n, count - 1)) : other_empty(self);
    }
    default:
        break;
    }
    Children ch;
    if (named_children(n, &ch) < 0) return NULL;
    PyObject *out = NULL;
    if (kind == K_SUBSCRIPT && ch.n) {
        PyObject *key = Py_NewRef(Py_None);
        if (ch.n > 1) {
            TSNode index = ch.items[1];
            if (kind_of(self, index) == K_SUBSCRIPT_ARGS && ts.named_child_count(index)) {
                index = ts.named_child(index, 0); /* C++: row["k"] */
            }
            PyObject *k = expr(self, index);
            Py_DECREF(key);
            key = k ? lit_value(self, k) : NULL;
            Py_XDECREF(k);
            if (key != NULL && !PyUnicode_Check(key)) Py_SETREF(key, Py_NewRef(Py_None));
        }
        if (key != NULL) {
            PyObject *values[2] = {expr(self, ch.items[0]), key};
            out = make(self, C_SUB, 2, values);
        }
    } else if (kind == K_SELECTION && ch.n) {
        PyObject *base = expr(self, ch.items[0]);
        PyObject *name = NULL;
        if (base != NULL) {
            PyObject *t = text(self, ch.items[ch.n - 1]);
            if (t != NULL) { /* lstrip("$") */
                Py_ssize_t len = PyUnicode_GET_LENGTH(t), i = 0;
                while (i < len && PyUnicode_READ_CHAR(t, i) == '$') i++;
                name = PyUnicode_Substring(t, i, len);
                Py_DECREF(t);
            }
        }
        PyObject *values[2] = {base, name};
        out = make(self, C_SUB, 2, values);
    } else if (kind == K_ARRAY) {
        out = array(self, &ch);
    } else if (kind == K_NEW) {
        out = new_expression(self, &ch);
    } else if (kind == K_BINARY) {
        TSNode op_node = ts.child_by_field_id(n, self->fields[F_OPERATOR]);
        PyObject *op = ts.is_null(op_node) ? Py_NewRef(self->empty_str) : text(self, op_node);
        PyObject *left = op ? expr_or_other(self, ts.child_by_field_id(n, self->fields[F_LEFT])) : NULL;
        PyObject *right = left ? expr_or_other(self, ts.child_by_field_id(n, self->fields[F_RIGHT])) : NULL;
        if (right != NULL) {
            Py_ssize_t len = PyUnicode_GET_LENGTH(op);
            Py_UCS4 c = len == 1 ? PyUnicode_READ_CHAR(op, 0) : 0;
            int boolean = 0;
            for (size_t i = 0; i < sizeof(BOOLEAN_OPS) / sizeof(BOOLEAN_OPS[0]) && !boolean; i++) {
                boolean = PyUnicode_CompareWithASCIIString(op, BOOLEAN_OPS[i]) == 0;
            }
            if (boolean) { /* Call(op, (left, right)): a boolean carries no data */
                PyObject *values[4] = {Py_NewRef(op), PyTuple_Pack(2, left, right), Py_NewRef(self->empty_tuple),
                                       Py_NewRef(Py_None)};
                out = make(self, C_CALL, 4, values);
            } else if (c == '.' || c == '+') {
                PyObject *parts = PyList_New(0);
                if (parts && (tmpl_parts(self, left, parts) < 0 || tmpl_parts(self, right, parts) < 0)) {
                    Py_CLEAR(parts);
                }
                PyObject *t = parts ? PyList_AsTuple(parts) : NULL;
                Py_XDECREF(parts);
                out = make1(self, C_TMPL, t);
            } else {
                out = make1(self, C_OTHER, PyTuple_Pack(2, left, right));
            }
        }
        Py_XDECREF(op);
        Py_XDECREF(left);
        Py_XDECREF(right);
    } else {
        PyObject *list = PyList_New(0);
        for (uint32_t i = 0; list != NULL && i < ch.n; i++) {
            if (kind_of(self, ch.items[i]) == K_COMMENT) continue;
            PyObject *e = expr(self, ch.items[i]);
            if (e == NULL || PyList_Append(list, e) < 0) Py_CLEAR(list);
            Py_XDECREF(e);
        }
        if (list != NULL) {
            out = make1(self, C_OTHER, PyList_AsTuple(list));
            Py_DECREF(list);
        }
    }
    children_free(&ch);
    return out;
}

static PyObject *expr(Lowerer *self, TSNode n) {
    if (Py_EnterRecursiveCall(" while lowering an expression")) return NULL;
    PyObject *out = expr_inner(self, n);
    Py_LeaveRecursiveCall();
    return out;
}


/* -- statements: the twin of tsfront._Lowering._block, _statement, _loop, _expression_statement --------- */

static PyObject *snippet(Lowerer *self, uint32_t row) {
    if ((Py_ssize_t)row >= PyList_GET_SIZE(self->lines)) return Py_NewRef(self->empty_str);
    PyObject *stripped = PyObject_CallMethod(PyList_GET_ITEM(self->lines, row), "strip", NULL);
    if (stripped == NULL || PyUnicode_GET_LENGTH(stripped) <= 160) return stripped;
    PyObject *cut = PyUnicode_Substring(stripped, 0, 160);
    Py_DECREF(stripped);
    return cut;
}

/* Appends Stmt(value, row + 1, snippet of row, target, guards, is_return, in_loop); steals value, target */
static int add_stmt(Lowerer *self, PyObject *body, PyObject *value, uint32_t row, PyObject *target,
                    PyObject *guards, int is_return, int loop) {
    PyObject *values[7] = {
        value, PyLong_FromUnsignedLong(row + 1), value && target ? snippet(self, row) : NULL, target,
        Py_NewRef(guards), PyBool_FromLong(is_return), PyBool_FromLong(loop),
    }; /* a NULL value or target: an error is set, and make() drops the rest */
    PyObject *stmt = make(self, C_STMT, 7, values);
    if (stmt == NULL) return -1;
    int rc = PyList_Append(body, stmt);
    Py_DECREF(stmt);
    return rc;
}

static int statement(Lowerer *self, TSNode n, PyObject *body, PyObject *guards, int loop);

static int block(Lowerer *self, TSNode n, PyObject *body, PyObject *guards, int loop) {
    Children ch;
    if (named_children(n, &ch) < 0) return -1;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < ch.n; i++) {
        rc = statement(self, ch.items[i], body, guards, loop);
        uint8_t k = kind_of(self, ch.items[i]);
        if (k == K_RETURN || k == K_THROW) break; /* the rest of the block does not run */
    }
    children_free(&ch);
    return rc;
}

static int expression_statement(Lowerer *self, TSNode n, PyObject *body, PyObject *guards, int loop) {
    uint8_t kind = kind_of(self, n);
    while (kind == K_UNWRAP) {
        uint32_t count = ts.named_child_count(n);
        if (!count) break;
        n = ts.named_child(n, count - 1);
        kind = kind_of(self, n);
    }
    uint32_t row = ts.start_point(n).row;
    PyObject *op = NULL;
    if (kind == K_BINARY || kind == K_ASSIGN) {
        TSNode op_node = ts.child_by_field_id(n, self->fields[F_OPERATOR]);
        if (!ts.is_null(op_node)) {
            op = text(self, op_node);
            if (op == NULL) return -1;
        }
    }
    int assign = 0, plain = 0;
    if (op != NULL) {
        const char *ops[] = {"=", ".=", "+=", "?" "?=", "|="}; /* "??=" split: no trigraph */
        for (int i = 0; i < 5 && !assign; i++) {
            if (PyUnicode_CompareWithASCIIString(op, ops[i]) == 0) {
                assign = 1;
                plain = i == 0;
            }
        }
        Py_DECREF(op);
    }
    if (!assign) return add_stmt(self, body, expr(self, n), row, Py_NewRef(Py_None), guards, 0, loop);
    PyObject *target = expr_or_other(self, ts.child_by_field_id(n, self->fields[F_LEFT]));
    if (target == NULL) return -1;
    PyObject *value = expr_or_other(self, ts.child_by_field_id(n, self->fields[F_RIGHT]));
    if (value != NULL && !plain) { /* compound: the old value flows on */
        PyObject *pair = PyTuple_Pack(2, target, value);
        Py_DECREF(value);
        value = make1(self, C_OTHER, pair);
    }
    if (value == NULL) {
        Py_DECREF(target);
        return -1;
    }
    return add_stmt(self, body, value, row, target, guards, 0, loop);
}

static PyObject *guards_plus(PyObject *guards, PyObject *guard) {
    Py_ssize_t n = PyTuple_GET_SIZE(guards);
    PyObject *out = PyTuple_New(n + 1);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) PyTuple_SET_ITEM(out, i, Py_NewRef(PyTuple_GET_ITEM(guards, i)));
    PyTuple_SET_ITEM(out, n, Py_NewRef(guard));
    return out;
}

static int if_statement(Lowerer *self, TSNode n, PyObject *body, PyObject *guards, int loop) {
    Children ch;
    if (named_children(n, &ch) < 0) return -1;
    TSNode cond = ts.child_by_field_id(n, self->fields[F_CONDITION]);
    if (ts.is_null(cond)) {
        if (ch.n == 0) { /* as Python's named_children[0]: never seen, a grammar always has a condition */
            children_free(&ch);
            PyErr_SetString(PyExc_IndexError, "an if statement without a condition");
            return -1;
        }
        cond = ch.items[0];
    }
    PyObject *cond_text = text(self, cond);
    PyObject *guard = cond_text ? PyObject_CallOneArg(self->strip_parens, cond_text) : NULL;
    Py_XDECREF(cond_text);
    int rc = -1;
    if (guard == NULL) goto done;
    if (add_stmt(self, body, expr(self, cond), ts.start_point(n).row, Py_NewRef(Py_None), guards, 0, loop) < 0) {
        goto done;
    }
    int first = 1;
    rc = 0;
    for (uint32_t i = 0; rc == 0 && i < ch.n; i++) {
        if (ch.items[i].id == cond.id) continue;
        PyObject *g = first ? Py_NewRef(guard) : PyUnicode_FromFormat("!(%U)", guard);
        first = 0;
        PyObject *inner = g ? guards_plus(guards, g) : NULL;
        Py_XDECREF(g);
        rc = inner ? statement(self, ch.items[i], body, inner, loop) : -1;
        Py_XDECREF(inner);
    }
done:
    Py_XDECREF(guard);
    children_free(&ch);
    return rc;
}

static int loop_statement(Lowerer *self, TSNode n, uint8_t kind, PyObject *body, PyObject *guards) {
    Children ch;
    if (named_children(n, &ch) < 0) return -1;
    TSNode loop_body = ts.child_by_field_id(n, self->fields[F_BODY]);
    if (ts.is_null(loop_body) && ch.n) loop_body = ch.items[ch.n - 1];
    int has_body = !ts.is_null(loop_body);
    int rc = 0;
    uint32_t row = ts.start_point(n).row;
    if (kind == K_FOREACH) { /* foreach ($items as $k => $v): items flow to v */
        TSNode heads[2];
        uint32_t nheads = 0;
        for (uint32_t i = 0; i < ch.n; i++) {
            if (has_body && ch.items[i].id == loop_body.id) continue;
            if (nheads == 0) heads[0] = ch.items[i];
            heads[1] = ch.items[i];
            nheads++;
        }
        if (nheads >= 2) {
            PyObject *value = expr(self, heads[0]);
            PyObject *target = value ? expr(self, heads[1]) : NULL;
            rc = target ? add_stmt(self, body, value, row, target, guards, 0, 1) : -1;
            if (target == NULL) Py_XDECREF(value);
        }
    } else if (kind == K_RANGE_LOOP) {
        TSNode target_node = ts.child_by_field_id(n, self->fields[F_DECLARATOR]);
        TSNode value_node = ts.child_by_field_id(n, self->fields[F_RIGHT]);
        if (!ts.is_null(target_node) && !ts.is_null(value_node)) {
            PyObject *value = expr(self, value_node);
            PyObject *target = value ? expr(self, target_node) : NULL;
            rc = target ? add_stmt(self, body, value, row, target, guards, 0, 1) : -1;
            if (target == NULL) Py_XDECREF(value);
        }
    }
    children_free(&ch);
    if (rc == 0 && has_body) rc = statement(self, loop_body, body, guards, 1);
    return rc;
}

/* tsfront._declaration: T x = v assigns v; a class's value made without = is a call of the class */
static int declaration(Lowerer *self, TSNode n, PyObject *body, PyObject *guards, int loop) {
    TSNode typ = ts.child_by_field_id(n, self->fields[F_TYPE]);
    int cls = !ts.is_null(typ) && (kind_of(self, typ) == K_CLASS_TYPE || kind_of(self, typ) == K_QUALIFIED);
    Children ch;
    if (named_children(n, &ch) < 0) return -1;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < ch.n; i++) {
        TSNode decl = ch.items[i];
        uint8_t kind = kind_of(self, decl);
        if (kind == K_INIT_DECLARATOR) {
            TSNode value_node = ts.child_by_field_id(decl, self->fields[F_VALUE]);
            if (ts.is_null(value_node)) continue;
            uint8_t vk = kind_of(self, value_node);
            PyObject *value;
            if (vk == K_ARGUMENTS || vk == K_INIT_LIST) {
                if (!cls) continue;
                PyObject *args = exprs_of(self, value_node, 0);
                value = args ? made(self, typ, args) : NULL;
            } else {
                value = expr(self, value_node);
            }
            PyObject *target = value ? expr_or_other(self, ts.child_by_field_id(decl, self->fields[F_DECLARATOR])) : NULL;
            rc = target ? add_stmt(self, body, value, ts.start_point(decl).row, target, guards, 0, loop) : -1;
            if (target == NULL) Py_XDECREF(value);
        } else if (cls && (kind == K_IDENT || kind == K_FUNC_DECL)) {
            TSNode name = kind == K_IDENT ? decl : ts.child_by_field_id(decl, self->fields[F_DECLARATOR]);
            if (ts.is_null(name) || kind_of(self, name) != K_IDENT) continue;
            PyObject *args;
            if (kind == K_FUNC_DECL) { /* Mapper<Users> mp(db): the "parameters" are the arguments */
                TSNode params = ts.child_by_field_id(decl, self->fields[F_PARAMETERS]);
                Children pc;
                if (ts.is_null(params)) {
                    args = Py_NewRef(self->empty_tuple);
                } else if (named_children(params, &pc) < 0) {
                    args = NULL;
                } else {
                    PyObject *list = PyList_New(0);
                    for (uint32_t j = 0; list != NULL && j < pc.n; j++) {
                        if (kind_of(self, pc.items[j]) != K_PARAM_DECL) continue;
                        PyObject *t = text(self, pc.items[j]);
                        PyObject *v = t ? make1(self, C_VAR, t) : NULL;
                        if (v == NULL || PyList_Append(list, v) < 0) Py_CLEAR(list);
                        Py_XDECREF(v);
                    }
                    children_free(&pc);
                    args = list ? PyList_AsTuple(list) : NULL;
                    Py_XDECREF(list);
                }
            } else {
                args = Py_NewRef(self->empty_tuple);
            }
            PyObject *target = args ? expr(self, name) : NULL;
            PyObject *value = target ? made(self, typ, args) : NULL;
            if (target == NULL) Py_XDECREF(args);
            if (target != NULL && value == NULL) {
                Py_DECREF(target);
                rc = -1;
            } else {
                rc = value ? add_stmt(self, body, value, ts.start_point(decl).row, target, guards, 0, loop) : -1;
            }
        }
    }
    children_free(&ch);
    return rc;
}

static int statement_inner(Lowerer *self, TSNode n, PyObject *body, PyObject *guards, int loop) {
    uint8_t kind = kind_of(self, n);
    switch (kind) {
    case K_EXPR_STMT: {
        uint32_t count = ts.named_child_count(n);
        return expression_statement(self, count ? ts.named_child(n, 0) : n, body, guards, loop);
    }
    case K_COMMENT:
        return 0;
    case K_BLOCK:
        return block(self, n, body, guards, loop);
    case K_IF:
        return if_statement(self, n, body, guards, loop);
    case K_LOOP:
    case K_FOREACH:
    case K_RANGE_LOOP:
        return loop_statement(self, n, kind, body, guards);
    case K_RETURN: {
        if (!ts.named_child_count(n)) return 0;
        PyObject *value = expr(self, ts.named_child(n, 0));
        return add_stmt(self, body, value, ts.start_point(n).row, Py_NewRef(Py_None), guards, 1, loop);
    }
    case K_DECLARATION:
        return declaration(self, n, body, guards, loop);
    default:
        return ts.is_named(n) ? expression_statement(self, n, body, guards, loop) : 0;
    }
}

static int statement(Lowerer *self, TSNode n, PyObject *body, PyObject *guards, int loop) {
    if (Py_EnterRecursiveCall(" while lowering a statement")) return -1;
    int rc = statement_inner(self, n, body, guards, loop);
    Py_LeaveRecursiveCall();
    return rc;
}

/* -- the Lowerer object ------------------------------------------------------------------------------ */

static int node_of(Lowerer *self, PyObject *obj, TSNode *out) {
    if (Py_TYPE(obj) != (PyTypeObject *)self->node_type) {
        PyErr_Format(PyExc_TypeError, "expected a tree_sitter.Node, got %.100s", Py_TYPE(obj)->tp_name);
        return -1;
    }
    *out = ((PyNode *)obj)->node;
    return 0;
}

/* The kind table of each language seen, made once: a grammar has hundreds of symbols */
typedef struct {
    const void *language;
    uint8_t *kinds;
    uint32_t nkinds;
    TSFieldId fields[N_FIELDS];
} Grammar;
static Grammar grammars[8];
static int n_grammars = 0;

static int kinds_for(Lowerer *self, const void *language) {
    Grammar *g = NULL;
    for (int i = 0; i < n_grammars; i++) {
        if (grammars[i].language == language) g = &grammars[i];
    }
    if (g == NULL) {
        if (n_grammars == (int)(sizeof(grammars) / sizeof(grammars[0]))) {
            PyErr_SetString(PyExc_RuntimeError, "too many tree-sitter grammars");
            return -1;
        }
        uint32_t count = ts.symbol_count(language);
        uint8_t *kinds = PyMem_RawCalloc(count + 1, 1); /* kept for the life of the process */
        if (kinds == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (uint32_t s = 0; s < count; s++) {
            const char *name = ts.symbol_name(language, (TSSymbol)s);
            if (name == NULL) continue;
            for (size_t k = 0; k < sizeof(KINDS) / sizeof(KINDS[0]); k++) {
                if (strcmp(name, KINDS[k].name) == 0) {
                    kinds[s] = KINDS[k].kind;
                    break;
                }
            }
        }
        g = &grammars[n_grammars++];
        g->language = language;
        g->kinds = kinds;
        g->nkinds = count;
        for (int i = 0; i < N_FIELDS; i++) {
            g->fields[i] = ts.field_id(language, FIELD_NAMES[i], (uint32_t)strlen(FIELD_NAMES[i]));
        }
    }
    self->kinds = g->kinds;
    self->nkinds = g->nkinds;
    memcpy(self->fields, g->fields, sizeof(self->fields));
    return 0;
}

static PyObject *known_classes = NULL; /* the classes tuple whose offsets are in known_offsets */
static Py_ssize_t known_offsets[N_CLASSES][7];

/* Lowerer(source: bytes, root: Node, classes: the 8 IR classes (tsfront._IR_CLASSES), interp, vars: dict,
 *         callees: dict, lines: list, strip_parens) */
static int Lowerer_init(Lowerer *self, PyObject *args, PyObject *kwds) {
    PyObject *source, *root, *classes, *interp, *vars, *callees, *lines, *strip_parens;
    if (!ts_ready) {
        PyErr_SetString(PyExc_RuntimeError, "tree-sitter's functions are not bound (call bind() first)");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "SOO!OO!O!O!O", &source, &root, &PyTuple_Type, &classes, &interp, &PyDict_Type,
                          &vars, &PyDict_Type, &callees, &PyList_Type, &lines, &strip_parens)) {
        return -1;
    }
    if (PyTuple_GET_SIZE(classes) != N_CLASSES) {
        PyErr_SetString(PyExc_ValueError, "expected the 8 IR classes");
        return -1;
    }
    self->node_type = Py_NewRef((PyObject *)Py_TYPE(root));
    if (classes != known_classes) { /* a file at a time: the slot offsets are read once per classes tuple */
        for (int c = 0; c < N_CLASSES; c++) {
            PyObject *cls = PyTuple_GET_ITEM(classes, c);
            if (!PyType_Check(cls)) {
                PyErr_SetString(PyExc_TypeError, "IR classes must be classes");
                return -1;
            }
            for (int f = 0; f < 7 && FIELDS[c][f]; f++) {
                PyObject *d = PyObject_GetAttrString(cls, FIELDS[c][f]);
                if (d == NULL) return -1;
                if (!Py_IS_TYPE(d, &PyMemberDescr_Type)) {
                    Py_DECREF(d);
                    PyErr_Format(PyExc_TypeError, "%s is not a slot", FIELDS[c][f]);
                    return -1;
                }
                known_offsets[c][f] = ((PyMemberDescrObject *)d)->d_member->offset;
                Py_DECREF(d);
            }
        }
        Py_XSETREF(known_classes, Py_NewRef(classes));
    }
    for (int c = 0; c < N_CLASSES; c++) self->classes[c] = Py_NewRef(PyTuple_GET_ITEM(classes, c));
    memcpy(self->offsets, known_offsets, sizeof(known_offsets));
    self->source = Py_NewRef(source);
    self->src = PyBytes_AS_STRING(source);
    self->len = PyBytes_GET_SIZE(source);
    self->interp = Py_NewRef(interp);
    self->vars = Py_NewRef(vars);
    self->callees = Py_NewRef(callees);
    self->lines = Py_NewRef(lines);
    self->strip_parens = Py_NewRef(strip_parens);
    self->calls = PyList_New(0);
    self->empty_tuple = PyTuple_New(0);
    self->empty_str = PyUnicode_New(0, 0);
    if (!self->calls || !self->empty_tuple || !self->empty_str) return -1;
    TSNode node;
    if (node_of(self, root, &node) < 0) return -1;
    return kinds_for(self, ts.tree_language(node.tree));
}

static void Lowerer_dealloc(Lowerer *self) {
    Py_XDECREF(self->source);
    for (int c = 0; c < N_CLASSES; c++) Py_XDECREF(self->classes[c]);
    Py_XDECREF(self->vars);
    Py_XDECREF(self->callees);
    Py_XDECREF(self->lines);
    Py_XDECREF(self->strip_parens);
    Py_XDECREF(self->calls);
    Py_XDECREF(self->interp);
    Py_XDECREF(self->node_type);
    Py_XDECREF(self->empty_tuple);
    Py_XDECREF(self->empty_str);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Lowerer_expr(Lowerer *self, PyObject *obj) {
    if (obj == Py_None) return other_empty(self);
    TSNode n;
    if (node_of(self, obj, &n) < 0) return NULL;
    return expr(self, n);
}

static PyObject *run_statements(Lowerer *self, PyObject *args, int whole_block) {
    PyObject *obj, *body, *guards;
    int loop;
    if (!PyArg_ParseTuple(args, "OO!O!p", &obj, &PyList_Type, &body, &PyTuple_Type, &guards, &loop)) return NULL;
    TSNode n;
    if (node_of(self, obj, &n) < 0) return NULL;
    int rc = whole_block ? block(self, n, body, guards, loop) : statement(self, n, body, guards, loop);
    if (rc < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *Lowerer_block(Lowerer *self, PyObject *args) { return run_statements(self, args, 1); }

static PyObject *Lowerer_statement(Lowerer *self, PyObject *args) { return run_statements(self, args, 0); }

/* (start byte, end byte, symbol) as read through the layout: tsfront compares it with the Node's own */
static PyObject *Lowerer_probe(Lowerer *self, PyObject *obj) {
    TSNode n;
    if (node_of(self, obj, &n) < 0) return NULL;
    return Py_BuildValue("(III)", ts.start_byte(n), ts.end_byte(n), (unsigned)ts.symbol(n));
}

static PyObject *Lowerer_get_calls(Lowerer *self, void *closure) { return Py_NewRef(self->calls); }

static int Lowerer_set_calls(Lowerer *self, PyObject *value, void *closure) {
    if (value == NULL || !PyList_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "calls must be a list");
        return -1;
    }
    Py_SETREF(self->calls, Py_NewRef(value));
    return 0;
}

static PyMethodDef Lowerer_methods[] = {
    {"expr", (PyCFunction)Lowerer_expr, METH_O, "The IR of an expression node (None: Other())."},
    {"block", (PyCFunction)Lowerer_block, METH_VARARGS, "block(node, body, guards, loop): its statements."},
    {"statement", (PyCFunction)Lowerer_statement, METH_VARARGS, "statement(node, body, guards, loop)."},
    {"probe", (PyCFunction)Lowerer_probe, METH_O, "(start_byte, end_byte, kind_id) of a node, read in C."},
    {NULL},
};

static PyGetSetDef Lowerer_getset[] = {
    {"calls", (getter)Lowerer_get_calls, (setter)Lowerer_set_calls, "the current function's callees", NULL},
    {NULL},
};

static PyTypeObject LowererType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "flowscope_hack_static._lower.Lowerer",
    .tp_basicsize = sizeof(Lowerer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Lowerer_init,
    .tp_dealloc = (destructor)Lowerer_dealloc,
    .tp_methods = Lowerer_methods,
    .tp_getset = Lowerer_getset,
};

/* bind(path): look up tree-sitter's C API in the already loaded py-tree-sitter module at ``path`` */
static PyObject *bind(PyObject *module, PyObject *arg) {
    PyObject *bytes;
    if (!PyUnicode_FSConverter(arg, &bytes)) return NULL;
    void *lib = dlopen(PyBytes_AS_STRING(bytes), RTLD_LAZY | RTLD_NOLOAD);
    Py_DECREF(bytes);
    if (lib == NULL) {
        PyErr_Format(PyExc_ImportError, "tree-sitter's module is not loaded: %s", dlerror());
        return NULL;
    }
#define BIND(field, name)                                                                                \
    do {                                                                                                 \
        *(void **)(&ts.field) = dlsym(lib, name);                                                        \
        if (ts.field == NULL) {                                                                          \
            PyErr_Format(PyExc_ImportError, "tree-sitter has no %s", name);                             \
            return NULL;                                                                                 \
        }                                                                                                \
    } while (0)
    BIND(symbol, "ts_node_symbol");
    BIND(start_byte, "ts_node_start_byte");
    BIND(start_point, "ts_node_start_point");
    BIND(end_byte, "ts_node_end_byte");
    BIND(named_child_count, "ts_node_named_child_count");
    BIND(named_child, "ts_node_named_child");
    BIND(child_by_field_id, "ts_node_child_by_field_id");
    BIND(is_null, "ts_node_is_null");
    BIND(is_named, "ts_node_is_named");
    BIND(cursor_new, "ts_tree_cursor_new");
    BIND(cursor_delete, "ts_tree_cursor_delete");
    BIND(cursor_first_child, "ts_tree_cursor_goto_first_child");
    BIND(cursor_next_sibling, "ts_tree_cursor_goto_next_sibling");
    BIND(cursor_node, "ts_tree_cursor_current_node");
    BIND(tree_language, "ts_tree_language");
    BIND(symbol_count, "ts_language_symbol_count");
    BIND(symbol_name, "ts_language_symbol_name");
    BIND(field_id, "ts_language_field_id_for_name");
#undef BIND
    ts_ready = 1; /* the handle stays open: the module it names is loaded for the life of the process */
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"bind", bind, METH_O, "Bind tree-sitter's C API from the loaded py-tree-sitter module at this path."},
    {NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_lower", "Hack and C++ expressions lowered to the IR in C.", -1, module_methods,
};

PyMODINIT_FUNC PyInit__lower(void) {
    if (PyType_Ready(&LowererType) < 0) return NULL;
    S_COLONS = PyUnicode_InternFromString("::");
    S_DYNAMIC = PyUnicode_InternFromString("dynamic::object");
    if (!S_COLONS || !S_DYNAMIC) return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Lowerer", (PyObject *)&LowererType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
