/*
 * kling_prompt._lexscan: the lexicon scan of kling_prompt.linter.lexicon, compiled.
 *
 * A Scanner holds every word-led lexicon phrase in a trie. Scanner.split(text) returns exactly
 * what the lexicon's regular expression returns from Pattern.split(text):
 *
 *     ([^a-z0-9_@+])(?<=[^\w@+])(<trie of the phrases>)(?![\w])
 *
 * that is the text cut at each match, in threes: the text before, the boundary character, the
 * matched phrase; then the rest. A phrase starts after a character that is neither a word
 * character nor "@" or "+", ends before a character that is not a word character, and a space in
 * a phrase stands for a run of whitespace and hyphens. At each start the longest phrase that ends
 * at such a boundary wins; matches do not overlap. Word characters and whitespace are Python's
 * (str.isalnum() or "_", str.isspace()), as in the regular expression.
 *
 * The scan reads little memory, which is what it waits on: the run of word characters a text word
 * starts with is looked up in a hash table of the phrases' leading runs (most words start no
 * phrase), and the trie, packed depth first into two arrays, is walked on only from the node that
 * run leads to.
 *
 * runs_repeat(words, size) answers what KP408 asks of every prompt first: whether some run of
 * ``size`` consecutive words occurs twice (``len(set(zip(*shifted))) < count`` in Python).
 *
 * word_count(text) is len(text.split()) without making the words.
 *
 * has_digit(text) and gate_text(text, needles, masks, wanted) serve the rule selection: whether a
 * text holds a decimal digit, and which substring gates a text opens.
 *
 * The pure-Python paths stay the reference: tests compare the two.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    Py_UCS4 ch; /* the edge's character; ' ' stands for a run of whitespace and hyphens */
    int32_t child;
} Edge;

typedef struct {
    Edge *edges;
    int32_t count;
    int32_t capacity;
    int32_t terminal; /* 1 + the index in Scanner.phrases of the phrase that ends here, or 0 */
    int32_t space;    /* the child through a ' ' edge, or -1 */
} Node;

/* The trie as the scan reads it, built from the Node tree once every phrase is in: the nodes
 * numbered in depth-first order (a phrase's chain of nodes is one run of memory) and every
 * node's edges in one array, so that a scan touches little memory. */
typedef struct {
    int32_t first;    /* the node's first edge in Scanner.edges */
    int32_t count;    /* its number of edges */
    int32_t terminal; /* as in Node */
    int32_t space;    /* as in Node, numbered as here */
} Packed;

typedef struct {
    PyObject_HEAD
    PyObject *phrases; /* tuple: the phrases as given, handed out for exact matches */
    Node *nodes;       /* while building; freed once packed */
    Py_ssize_t node_count;
    Py_ssize_t node_capacity;
    Packed *packed; /* node_count nodes */
    Edge *edges;    /* every edge, child numbers as in packed */
    /* The leading runs of the phrases (their first maximal run of word characters, as in
     * "close" of "close up" or "o" of "o'clock"), hashed: a scan looks up the run a text word
     * starts with instead of walking the trie one character at a time, and walks on only from
     * the node that run leads to. slots: 0 when free, else 1 + the run's index. */
    int32_t *slots;
    Py_ssize_t slot_mask;
    uint32_t *run_hash;  /* per run: its hash */
    int32_t *run_node;   /* the packed node after the run */
    int32_t *run_start;  /* where its characters start in run_chars */
    int32_t *run_length; /* how many */
    Py_UCS4 *run_chars;
} Scanner;

/* Word characters of ASCII: [A-Za-z0-9_]. */
static unsigned char ascii_word[128];

static inline int
is_word(Py_UCS4 c)
{
    if (c < 128) {
        return ascii_word[c];
    }
    return Py_UNICODE_ISALNUM(c);
}

static inline int
is_separator(Py_UCS4 c)
{
    return c == '-' || Py_UNICODE_ISSPACE(c);
}

static int32_t
new_node(Scanner *self)
{
    if (self->node_count == self->node_capacity) {
        Py_ssize_t capacity = self->node_capacity ? self->node_capacity * 2 : 1024;
        Node *grown = PyMem_Realloc(self->nodes, (size_t)capacity * sizeof(Node));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        self->nodes = grown;
        self->node_capacity = capacity;
    }
    if (self->node_count >= INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "too many lexicon phrases");
        return -1;
    }
    Node *node = &self->nodes[self->node_count];
    node->edges = NULL;
    node->count = 0;
    node->capacity = 0;
    node->terminal = 0;
    node->space = -1;
    return (int32_t)self->node_count++;
}

static int32_t
child_of(const Node *node, Py_UCS4 ch)
{
    for (int32_t i = 0; i < node->count; i++) {
        if (node->edges[i].ch == ch) {
            return node->edges[i].child;
        }
    }
    return -1;
}

/* The child of ``index`` through ``ch``, made when missing. */
static int32_t
add_child(Scanner *self, int32_t index, Py_UCS4 ch)
{
    int32_t found = child_of(&self->nodes[index], ch);
    if (found >= 0) {
        return found;
    }
    int32_t child = new_node(self); /* may move self->nodes */
    if (child < 0) {
        return -1;
    }
    Node *node = &self->nodes[index];
    if (node->count == node->capacity) {
        int32_t capacity = node->capacity ? node->capacity * 2 : 2;
        Edge *grown = PyMem_Realloc(node->edges, (size_t)capacity * sizeof(Edge));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        node->edges = grown;
        node->capacity = capacity;
    }
    node->edges[node->count].ch = ch;
    node->edges[node->count].child = child;
    node->count++;
    if (ch == ' ') {
        node->space = child;
    }
    return child;
}

/* A phrase the scan can match as the regular expression does: non-empty, led by a word
 * character, no hyphen, and whitespace only as single spaces between other characters. */
static int
check_phrase(PyObject *phrase)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(phrase);
    int kind = PyUnicode_KIND(phrase);
    const void *data = PyUnicode_DATA(phrase);
    if (n == 0 || !is_word(PyUnicode_READ(kind, data, 0))) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c == '-') {
            return 0;
        }
        if (Py_UNICODE_ISSPACE(c)) {
            if (c != ' ' || i + 1 >= n) {
                return 0;
            }
            Py_UCS4 next = PyUnicode_READ(kind, data, i + 1);
            if (next == '-' || Py_UNICODE_ISSPACE(next)) {
                return 0;
            }
        }
    }
    return 1;
}

static void
Scanner_free_tree(Scanner *self)
{
    if (self->nodes != NULL) {
        for (Py_ssize_t i = 0; i < self->node_count; i++) {
            PyMem_Free(self->nodes[i].edges);
        }
    }
    PyMem_Free(self->nodes);
    self->nodes = NULL;
    self->node_capacity = 0;
}

/* Number the nodes depth first and copy them into packed and edges; frees the tree. */
static int
pack(Scanner *self)
{
    Py_ssize_t n = self->node_count;
    Py_ssize_t edge_total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        edge_total += self->nodes[i].count;
    }
    int32_t *number = PyMem_Malloc((size_t)n * sizeof(int32_t));
    int32_t *stack = PyMem_Malloc((size_t)n * sizeof(int32_t));
    Packed *packed = PyMem_Malloc((size_t)n * sizeof(Packed));
    Edge *edges = PyMem_Malloc((size_t)(edge_total ? edge_total : 1) * sizeof(Edge));
    if (number == NULL || stack == NULL || packed == NULL || edges == NULL) {
        PyMem_Free(number);
        PyMem_Free(stack);
        PyMem_Free(packed);
        PyMem_Free(edges);
        PyErr_NoMemory();
        return -1;
    }
    /* Depth-first preorder, children in the order they were added. */
    Py_ssize_t top = 0, next = 0;
    stack[top++] = 0;
    while (top > 0) {
        int32_t old = stack[--top];
        number[old] = (int32_t)next++;
        const Node *node = &self->nodes[old];
        for (int32_t k = node->count - 1; k >= 0; k--) {
            stack[top++] = node->edges[k].child;
        }
    }
    Py_ssize_t cursor = 0;
    for (Py_ssize_t old = 0; old < n; old++) {
        const Node *node = &self->nodes[old];
        Packed *out = &packed[number[old]];
        out->terminal = node->terminal;
        out->space = node->space >= 0 ? number[node->space] : -1;
        out->count = node->count;
        out->first = (int32_t)cursor;
        for (int32_t k = 0; k < node->count; k++) {
            edges[cursor].ch = node->edges[k].ch;
            edges[cursor].child = number[node->edges[k].child];
            cursor++;
        }
    }
    PyMem_Free(number);
    PyMem_Free(stack);
    Scanner_free_tree(self);
    self->packed = packed;
    self->edges = edges;
    return 0;
}

/* The packed child of ``node`` through ``ch``, or -1. */
static inline int32_t
packed_child(const Scanner *self, const Packed *node, Py_UCS4 ch)
{
    const Edge *edge = &self->edges[node->first];
    for (int32_t i = 0; i < node->count; i++) {
        if (edge[i].ch == ch) {
            return edge[i].child;
        }
    }
    return -1;
}

static void
Scanner_free_runs(Scanner *self)
{
    PyMem_Free(self->slots);
    PyMem_Free(self->run_hash);
    PyMem_Free(self->run_node);
    PyMem_Free(self->run_start);
    PyMem_Free(self->run_length);
    PyMem_Free(self->run_chars);
    self->slots = NULL;
    self->run_hash = NULL;
    self->run_node = NULL;
    self->run_start = NULL;
    self->run_length = NULL;
    self->run_chars = NULL;
    self->slot_mask = 0;
}

static inline uint32_t
hash_step(uint32_t h, Py_UCS4 c)
{
    return (h ^ (uint32_t)c) * 16777619u; /* FNV-1a over code points */
}

/* The packed node the run text[start:end] leads to, or -1 when no phrase starts with it. */
static inline int32_t
run_node(const Scanner *self, int kind, const void *data, Py_ssize_t start, Py_ssize_t end,
         uint32_t hash)
{
    Py_ssize_t length = end - start;
    for (Py_ssize_t slot = (Py_ssize_t)hash & self->slot_mask;;
         slot = (slot + 1) & self->slot_mask) {
        int32_t entry = self->slots[slot];
        if (entry == 0) {
            return -1;
        }
        entry -= 1;
        if (self->run_hash[entry] != hash || self->run_length[entry] != length) {
            continue;
        }
        const Py_UCS4 *chars = &self->run_chars[self->run_start[entry]];
        Py_ssize_t i = 0;
        while (i < length && chars[i] == PyUnicode_READ(kind, data, start + i)) {
            i++;
        }
        if (i == length) {
            return self->run_node[entry];
        }
    }
}

/* Fill the table of leading runs from the phrases, once the trie is packed. */
static int
index_runs(Scanner *self)
{
    PyObject *phrases = self->phrases;
    Py_ssize_t count = PyTuple_GET_SIZE(phrases);
    Py_ssize_t chars = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        chars += PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(phrases, i));
    }
    Py_ssize_t slots = 16;
    while (slots < 2 * count) {
        slots *= 2;
    }
    Scanner_free_runs(self);
    self->slots = PyMem_Calloc((size_t)slots, sizeof(int32_t));
    self->run_hash = PyMem_Malloc((size_t)(count ? count : 1) * sizeof(uint32_t));
    self->run_node = PyMem_Malloc((size_t)(count ? count : 1) * sizeof(int32_t));
    self->run_start = PyMem_Malloc((size_t)(count ? count : 1) * sizeof(int32_t));
    self->run_length = PyMem_Malloc((size_t)(count ? count : 1) * sizeof(int32_t));
    self->run_chars = PyMem_Malloc((size_t)(chars ? chars : 1) * sizeof(Py_UCS4));
    if (self->slots == NULL || self->run_hash == NULL || self->run_node == NULL ||
        self->run_start == NULL || self->run_length == NULL || self->run_chars == NULL) {
        Scanner_free_runs(self);
        PyErr_NoMemory();
        return -1;
    }
    self->slot_mask = slots - 1;
    int32_t runs = 0, used = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *phrase = PyTuple_GET_ITEM(phrases, i);
        int kind = PyUnicode_KIND(phrase);
        const void *data = PyUnicode_DATA(phrase);
        Py_ssize_t n = PyUnicode_GET_LENGTH(phrase), end = 0;
        uint32_t hash = 2166136261u;
        int32_t node = 0;
        while (end < n && is_word(PyUnicode_READ(kind, data, end))) {
            Py_UCS4 c = PyUnicode_READ(kind, data, end);
            hash = hash_step(hash, c);
            node = packed_child(self, &self->packed[node], c);
            end++;
        }
        /* check_phrase: a phrase starts with a word character, so end > 0 and node >= 0. */
        if (run_node(self, kind, data, 0, end, hash) >= 0) {
            continue; /* a run met before */
        }
        Py_ssize_t slot = (Py_ssize_t)hash & self->slot_mask;
        while (self->slots[slot] != 0) {
            slot = (slot + 1) & self->slot_mask;
        }
        self->slots[slot] = runs + 1;
        self->run_hash[runs] = hash;
        self->run_node[runs] = node;
        self->run_start[runs] = used;
        self->run_length[runs] = (int32_t)end;
        for (Py_ssize_t k = 0; k < end; k++) {
            self->run_chars[used++] = PyUnicode_READ(kind, data, k);
        }
        runs++;
    }
    return 0;
}

static void
Scanner_clear_nodes(Scanner *self)
{
    Scanner_free_tree(self);
    Scanner_free_runs(self);
    PyMem_Free(self->packed);
    PyMem_Free(self->edges);
    self->packed = NULL;
    self->edges = NULL;
    self->nodes = NULL;
    self->node_count = 0;
    self->node_capacity = 0;
}

static void
Scanner_dealloc(Scanner *self)
{
    Scanner_clear_nodes(self);
    Py_CLEAR(self->phrases);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
Scanner_init(Scanner *self, PyObject *args, PyObject *kwds)
{
    static char *keywords[] = {"phrases", NULL};
    PyObject *phrases;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:Scanner", keywords, &phrases)) {
        return -1;
    }
    PyObject *seq = PySequence_Tuple(phrases);
    if (seq == NULL) {
        return -1;
    }
    Scanner_clear_nodes(self);
    Py_CLEAR(self->phrases);
    if (new_node(self) < 0) {
        Py_DECREF(seq);
        return -1;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(seq);
    if (count >= INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "too many lexicon phrases");
        Py_DECREF(seq);
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *phrase = PyTuple_GET_ITEM(seq, i);
        if (!PyUnicode_Check(phrase)) {
            PyErr_SetString(PyExc_TypeError, "phrases must be a sequence of str");
            Py_DECREF(seq);
            return -1;
        }
        if (!check_phrase(phrase)) {
            PyErr_Format(PyExc_ValueError, "phrase %R cannot be scanned", phrase);
            Py_DECREF(seq);
            return -1;
        }
        Py_ssize_t n = PyUnicode_GET_LENGTH(phrase);
        int kind = PyUnicode_KIND(phrase);
        const void *data = PyUnicode_DATA(phrase);
        int32_t node = 0;
        for (Py_ssize_t j = 0; j < n; j++) {
            node = add_child(self, node, PyUnicode_READ(kind, data, j));
            if (node < 0) {
                Py_DECREF(seq);
                return -1;
            }
        }
        self->nodes[node].terminal = (int32_t)(i + 1);
    }
    self->phrases = seq; /* owned: split hands the phrases out */
    if (pack(self) < 0 || index_runs(self) < 0) {
        Py_CLEAR(self->phrases);
        return -1;
    }
    return 0;
}

/* The end of the longest phrase that ends at a boundary, walking on from packed node ``index``
 * at text position ``q`` (the end of the phrase's leading run), or -1; its ``terminal``
 * (1 + the phrase's index) in *phrase. */
static Py_ssize_t
match_from(const Scanner *self, int kind, const void *data, Py_ssize_t n, int32_t index,
           Py_ssize_t q, int32_t *phrase)
{
    Py_ssize_t best = -1;
    for (;;) {
        const Packed *node = &self->packed[index];
        if (q >= n) {
            if (node->terminal) {
                best = q;
                *phrase = node->terminal;
            }
            break;
        }
        Py_UCS4 c = PyUnicode_READ(kind, data, q);
        if (node->terminal && !is_word(c)) {
            best = q;
            *phrase = node->terminal;
        }
        if (node->space >= 0 && is_separator(c)) {
            q++;
            while (q < n && is_separator(PyUnicode_READ(kind, data, q))) {
                q++;
            }
            index = node->space;
            continue;
        }
        index = packed_child(self, node, c);
        if (index < 0) {
            break;
        }
        q++;
    }
    return best;
}

static int
append_slice(PyObject *out, PyObject *text, Py_ssize_t start, Py_ssize_t end)
{
    PyObject *part = PyUnicode_Substring(text, start, end);
    if (part == NULL) {
        return -1;
    }
    int failed = PyList_Append(out, part);
    Py_DECREF(part);
    return failed;
}

/* Whether text[start:end] is exactly ``phrase`` (the common case: no hyphen, no run of
 * whitespace standing for its spaces). */
static int
same_text(PyObject *phrase, int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    if (PyUnicode_GET_LENGTH(phrase) != end - start) {
        return 0;
    }
    int phrase_kind = PyUnicode_KIND(phrase);
    const void *phrase_data = PyUnicode_DATA(phrase);
    for (Py_ssize_t i = start; i < end; i++) {
        if (PyUnicode_READ(kind, data, i) != PyUnicode_READ(phrase_kind, phrase_data, i - start)) {
            return 0;
        }
    }
    return 1;
}

static PyObject *
Scanner_split(Scanner *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "split() needs a str");
        return NULL;
    }
    if (self->packed == NULL || self->phrases == NULL) {
        PyErr_SetString(PyExc_ValueError, "Scanner was not initialised");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        return NULL;
    }
    Py_ssize_t last = 0;
    Py_ssize_t p = 0;
    while (p + 1 < n) {
        Py_UCS4 c = PyUnicode_READ(kind, data, p);
        if (c == '@' || c == '+' || is_word(c)) {
            p++;
            continue;
        }
        /* A phrase may start at p + 1, with a word character: the run of them there must be
         * a phrase's leading run (the characters of a match equal the phrase's, but for the
         * separators a space stands for, which are not word characters). */
        Py_ssize_t run_end = p + 1;
        uint32_t hash = 2166136261u;
        while (run_end < n) {
            Py_UCS4 w = PyUnicode_READ(kind, data, run_end);
            if (!is_word(w)) {
                break;
            }
            hash = hash_step(hash, w);
            run_end++;
        }
        if (run_end == p + 1) {
            p++; /* no word character follows */
            continue;
        }
        int32_t terminal = 0;
        int32_t node = run_node(self, kind, data, p + 1, run_end, hash);
        Py_ssize_t end = node < 0 ? -1 : match_from(self, kind, data, n, node, run_end, &terminal);
        if (end < 0) {
            p = run_end; /* what lies between holds word characters only: no phrase starts */
            continue;
        }
        if (append_slice(out, text, last, p) < 0 || append_slice(out, text, p, p + 1) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        /* The phrase object itself when the text is exactly the phrase: no new string, and its
         * hash is computed once for every dictionary lookup of every text. */
        PyObject *phrase = PyTuple_GET_ITEM(self->phrases, terminal - 1);
        if (same_text(phrase, kind, data, p + 1, end)) {
            if (PyList_Append(out, phrase) < 0) {
                Py_DECREF(out);
                return NULL;
            }
        }
        else if (append_slice(out, text, p + 1, end) < 0) {
            Py_DECREF(out);
            return NULL;
        }
        last = p = end;
    }
    if (append_slice(out, text, last, n) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

static PyObject *
Scanner_node_count(Scanner *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->node_count);
}

static PyMethodDef Scanner_methods[] = {
    {"split", (PyCFunction)Scanner_split, METH_O,
     "split(text) -> list[str]: the text cut at the phrase matches, as Pattern.split does."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Scanner_getset[] = {
    {"node_count", (getter)Scanner_node_count, NULL, "Nodes in the trie.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "kling_prompt._lexscan.Scanner",
    .tp_doc = "Scanner(phrases): every phrase in a trie, for split().",
    .tp_basicsize = sizeof(Scanner),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
    .tp_getset = Scanner_getset,
};

/* Whether some run of ``size`` consecutive items of ``words`` occurs twice (items compared
 * with ==, as a set of tuples compares them). */
static PyObject *
runs_repeat(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "runs_repeat(words, size) takes two arguments");
        return NULL;
    }
    Py_ssize_t size = PyLong_AsSsize_t(args[1]);
    if (size == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (size < 1) {
        PyErr_SetString(PyExc_ValueError, "size must be at least 1");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(args[0], "words must be a sequence");
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    Py_ssize_t count = n - size + 1;
    if (count < 2) {
        Py_DECREF(seq);
        Py_RETURN_FALSE;
    }
    Py_ssize_t slots = 8;
    while (slots < 2 * count) {
        slots *= 2;
    }
    Py_hash_t *hashes = PyMem_Malloc((size_t)n * sizeof(Py_hash_t));
    Py_uhash_t *runs = PyMem_Malloc((size_t)count * sizeof(Py_uhash_t));
    Py_ssize_t *table = PyMem_Calloc((size_t)slots, sizeof(Py_ssize_t));
    PyObject *result = NULL;
    int found = 0;
    if (hashes == NULL || runs == NULL || table == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        hashes[i] = PyObject_Hash(items[i]);
        if (hashes[i] == -1 && PyErr_Occurred()) {
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < count && !found; i++) {
        Py_uhash_t h = 0x345678UL;
        for (Py_ssize_t k = 0; k < size; k++) {
            h = (h ^ (Py_uhash_t)hashes[i + k]) * 1000003UL;
        }
        runs[i] = h;
        Py_ssize_t slot = (Py_ssize_t)(h & (Py_uhash_t)(slots - 1));
        for (;;) {
            Py_ssize_t other = table[slot];
            if (other == 0) {
                table[slot] = i + 1;
                break;
            }
            other -= 1;
            if (runs[other] == h) {
                int equal = 1;
                for (Py_ssize_t k = 0; k < size && equal; k++) {
                    equal = PyObject_RichCompareBool(items[other + k], items[i + k], Py_EQ);
                    if (equal < 0) {
                        goto done;
                    }
                }
                if (equal) {
                    found = 1;
                    break;
                }
            }
            slot = (slot + 1) & (slots - 1);
        }
    }
    result = PyBool_FromLong(found);
done:
    PyMem_Free(hashes);
    PyMem_Free(runs);
    PyMem_Free(table);
    Py_DECREF(seq);
    return result;
}

/* len(text.split()), without making the words. */
static PyObject *
word_count(PyObject *Py_UNUSED(module), PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "word_count() needs a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t words = 0;
    int inside = 0;
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *chars = data;
        for (Py_ssize_t i = 0; i < n; i++) {
            int space = Py_UNICODE_ISSPACE(chars[i]);
            words += !space && !inside;
            inside = !space;
        }
    }
    else {
        for (Py_ssize_t i = 0; i < n; i++) {
            int space = Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i));
            words += !space && !inside;
            inside = !space;
        }
    }
    return PyLong_FromSsize_t(words);
}

/* Whether text holds a decimal digit: what the regular expression \d matches in a str
 * (str.isdecimal() of one character). */
static PyObject *
has_digit(PyObject *Py_UNUSED(module), PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "has_digit() needs a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    if (kind == PyUnicode_1BYTE_KIND) {
        /* Latin-1 has no decimal digits but 0-9. */
        const Py_UCS1 *chars = data;
        for (Py_ssize_t i = 0; i < n; i++) {
            if ((Py_UCS1)(chars[i] - '0') < 10) {
                Py_RETURN_TRUE;
            }
        }
        Py_RETURN_FALSE;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (Py_UNICODE_ISDECIMAL(PyUnicode_READ(kind, data, i))) {
            Py_RETURN_TRUE;
        }
    }
    Py_RETURN_FALSE;
}

/* The union of masks[i] over the needles[i] found in text, skipping a needle whose mask has
 * no bit of wanted in common (its rules are no longer wanted): the substring gates of a rule
 * selection in one call. */
static PyObject *
gate_text(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "gate_text(text, needles, masks, wanted) takes four arguments");
        return NULL;
    }
    PyObject *text = args[0], *needles = args[1], *masks = args[2], *wanted = args[3];
    if (!PyUnicode_Check(text) || !PyTuple_Check(needles) || !PyTuple_Check(masks) ||
        !PyLong_Check(wanted)) {
        PyErr_SetString(PyExc_TypeError,
                        "gate_text() needs a str, a tuple of str, a tuple of int and an int");
        return NULL;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(needles);
    if (PyTuple_GET_SIZE(masks) != count) {
        PyErr_SetString(PyExc_ValueError, "gate_text(): needles and masks differ in length");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *found = PyLong_FromLong(0);
    if (found == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *needle = PyTuple_GET_ITEM(needles, i);
        PyObject *mask = PyTuple_GET_ITEM(masks, i);
        if (!PyUnicode_Check(needle)) {
            PyErr_SetString(PyExc_TypeError, "gate_text(): a needle is not a str");
            goto fail;
        }
        PyObject *common = PyNumber_And(mask, wanted);
        if (common == NULL) {
            goto fail;
        }
        int some = PyObject_IsTrue(common);
        Py_DECREF(common);
        if (some < 0) {
            goto fail;
        }
        if (!some) {
            continue;
        }
        Py_ssize_t at = 0;
        if (PyUnicode_GET_LENGTH(needle) > 0) {
            /* The first character, found by memchr for most texts, rules out most needles
             * before the substring search, which is slower to start ("++", "<<<voice_"). */
            at = PyUnicode_FindChar(text, PyUnicode_READ_CHAR(needle, 0), 0, n, 1);
        }
        if (at >= 0 && PyUnicode_GET_LENGTH(needle) > 1) {
            at = PyUnicode_Find(text, needle, at, n, 1);
        }
        if (at == -2) {
            goto fail;
        }
        if (at >= 0) {
            PyObject *grown = PyNumber_Or(found, mask);
            if (grown == NULL) {
                goto fail;
            }
            Py_SETREF(found, grown);
        }
    }
    return found;
fail:
    Py_DECREF(found);
    return NULL;
}

static PyMethodDef lexscan_functions[] = {
    {"has_digit", (PyCFunction)has_digit, METH_O,
     "has_digit(text) -> bool: whether text holds a decimal digit (what \\d matches)."},
    {"gate_text", (PyCFunction)(void (*)(void))gate_text, METH_FASTCALL,
     "gate_text(text, needles, masks, wanted) -> int: the union of masks[i] over the "
     "needles[i] in text whose mask shares a bit with wanted."},
    {"word_count", (PyCFunction)word_count, METH_O,
     "word_count(text) -> int: len(text.split()), without making the words."},
    {"runs_repeat", (PyCFunction)(void (*)(void))runs_repeat, METH_FASTCALL,
     "runs_repeat(words, size) -> bool: whether some run of size consecutive words occurs "
     "twice."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef lexscan_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kling_prompt._lexscan",
    .m_doc = "The lexicon scan of kling_prompt.linter.lexicon, compiled.",
    .m_size = -1,
    .m_methods = lexscan_functions,
};

PyMODINIT_FUNC
PyInit__lexscan(void)
{
    for (int c = 0; c < 128; c++) {
        ascii_word[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_';
    }
    if (PyType_Ready(&ScannerType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&lexscan_module);
    if (module == NULL) {
        return NULL;
    }
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(module, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
