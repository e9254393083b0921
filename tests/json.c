/* The tests' JSON parser (json.h). */
#include "json.h"

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* forward: values nest */
jval *jparse_value(jp *p, int depth);

/* ------------------------------------------------------------------------ */
/* A strict JSON parser (RFC 8259), enough to validate and walk the output   */
/* ------------------------------------------------------------------------ */

void jfree(jval *v)
{
    if (!v)
        return;
    free(v->str);
    for (int i = 0; i < v->n; i++) {
        if (v->keys)
            free(v->keys[i]);
        jfree(v->items[i]);
    }
    free(v->keys);
    free(v->items);
    free(v);
}

void jws(jp *p)
{
    while (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')
        p->s++;
}


static char *jparse_string(jp *p)
{
    if (*p->s != '"') {
        snprintf(p->err, sizeof p->err, "expected a string at '%.20s'", p->s);
        return NULL;
    }
    p->s++;
    size_t cap = 64, n = 0;
    char *out = malloc(cap);
    for (;;) {
        unsigned char c = (unsigned char)*p->s;
        if (c == '\0' || c < 0x20) {
            snprintf(p->err, sizeof p->err, "unterminated string or raw control character");
            free(out);
            return NULL;
        }
        p->s++;
        if (c == '"')
            break;
        if (c == '\\') {
            char e = *p->s++;
            switch (e) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u':
                for (int i = 0; i < 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p->s[i]) || !p->s[i]) {
                        snprintf(p->err, sizeof p->err, "bad \\u escape");
                        free(out);
                        return NULL;
                    }
                p->s += 4;
                c = '?';
                break;
            default:
                snprintf(p->err, sizeof p->err, "bad escape \\%c", e);
                free(out);
                return NULL;
            }
        }
        if (n + 2 > cap)
            out = realloc(out, cap *= 2);
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return out;
}

static jval *jnew(jtype t)
{
    jval *v = calloc(1, sizeof *v);
    v->t = t;
    return v;
}

jval *jparse_value(jp *p, int depth)
{
    if (depth > 64) {
        snprintf(p->err, sizeof p->err, "nesting too deep");
        return NULL;
    }
    jws(p);
    const char *s = p->s;
    if (*s == '{' || *s == '[') {
        bool obj = *s == '{';
        jval *v = jnew(obj ? J_OBJ : J_ARR);
        p->s++;
        jws(p);
        if (*p->s == (obj ? '}' : ']')) {
            p->s++;
            return v;
        }
        for (;;) {
            char *key = NULL;
            if (obj) {
                jws(p);
                if (!(key = jparse_string(p))) {
                    jfree(v);
                    return NULL;
                }
                jws(p);
                if (*p->s++ != ':') {
                    snprintf(p->err, sizeof p->err, "expected ':' after key '%s'", key);
                    free(key);
                    jfree(v);
                    return NULL;
                }
            }
            jval *item = jparse_value(p, depth + 1);
            if (!item) {
                free(key);
                jfree(v);
                return NULL;
            }
            v->items = realloc(v->items, (size_t)(v->n + 1) * sizeof *v->items);
            if (obj)
                v->keys = realloc(v->keys, (size_t)(v->n + 1) * sizeof *v->keys);
            v->items[v->n] = item;
            if (obj)
                v->keys[v->n] = key;
            v->n++;
            jws(p);
            if (*p->s == ',') {
                p->s++;
                continue;
            }
            if (*p->s == (obj ? '}' : ']')) {
                p->s++;
                return v;
            }
            snprintf(p->err, sizeof p->err, "expected ',' or '%c' at '%.20s'", obj ? '}' : ']',
                     p->s);
            jfree(v);
            return NULL;
        }
    }
    if (*s == '"') {
        char *str = jparse_string(p);
        if (!str)
            return NULL;
        jval *v = jnew(J_STR);
        v->str = str;
        return v;
    }
    if (!strncmp(s, "true", 4) || !strncmp(s, "false", 5)) {
        jval *v = jnew(J_BOOL);
        v->b = s[0] == 't';
        p->s += v->b ? 4 : 5;
        return v;
    }
    if (!strncmp(s, "null", 4)) {
        p->s += 4;
        return jnew(J_NULL);
    }
    /* Number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    const char *q = s;
    if (*q == '-')
        q++;
    if (*q == '0')
        q++;
    else if (*q >= '1' && *q <= '9')
        while (*q >= '0' && *q <= '9')
            q++;
    else {
        snprintf(p->err, sizeof p->err, "unexpected '%.20s'", s);
        return NULL;
    }
    if (*q == '.') {
        q++;
        if (!(*q >= '0' && *q <= '9')) {
            snprintf(p->err, sizeof p->err, "bad number '%.20s'", s);
            return NULL;
        }
        while (*q >= '0' && *q <= '9')
            q++;
    }
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-')
            q++;
        if (!(*q >= '0' && *q <= '9')) {
            snprintf(p->err, sizeof p->err, "bad exponent '%.20s'", s);
            return NULL;
        }
        while (*q >= '0' && *q <= '9')
            q++;
    }
    jval *v = jnew(J_NUM);
    v->num = strtod(s, NULL);
    p->s = q;
    return v;
}

/* Parses a whole document; fails the test with the parser's message. */
jval *json_parse_or_fail(const char *text)
{
    jp p = {text, ""};
    jval *v = jparse_value(&p, 0);
    if (v) {
        jws(&p);
        if (*p.s) {
            snprintf(p.err, sizeof p.err, "trailing text '%.20s'", p.s);
            jfree(v);
            v = NULL;
        }
    }
    ck_assert_msg(v != NULL, "invalid JSON: %s\n%.2000s", p.err, text);
    return v;
}

/* Member by key (NULL if absent or not an object). */
jval *jget(const jval *o, const char *key)
{
    if (!o || o->t != J_OBJ)
        return NULL;
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->keys[i], key))
            return o->items[i];
    return NULL;
}

jval *jreq(const jval *o, const char *key, jtype t)
{
    jval *v = jget(o, key);
    ck_assert_msg(v != NULL, "JSON: missing key '%s'", key);
    ck_assert_msg(v->t == t, "JSON: key '%s' has type %d, expected %d", key, v->t, t);
    return v;
}

