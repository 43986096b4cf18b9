/* repo: the "repo" section and tags of a repository event.
 *
 * Input is a GitHub Events API object ({"type":"ReleaseEvent",
 * "repo":{"name":"o/r"}, "actor":{"login":"u"}, "payload":{...}}) or a
 * flatter variant ({"type":..., "repo":"o/r", "actor":"u", "tag":...,
 * "topics":[...]}). Unknown event types still yield name and actor. */
#include "extract_int.h"

#include <stdio.h>
#include <string.h>

#include "text.h"

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static const char *str(const cJSON *v) { return cJSON_IsString(v) ? v->valuestring : NULL; }

/* A string, or the named string field of an object ("repo": "o/r" or
 * "repo": {"name": "o/r"}). */
static const char *str_or_field(const cJSON *v, const char *field)
{
    return cJSON_IsString(v) ? v->valuestring : str(get(v, field));
}

/* Adds s (valid UTF-8, capped at max bytes) to o; absent or invalid
 * strings become null when nullable, else are skipped. */
static int add_str(cJSON *o, const char *k, const char *s, size_t max, int nullable)
{
    if (s) {
        size_t n = strlen(s);
        n = ex_utf8_prefix(s, n, max);
        if (n && ex_utf8_valid(s, n)) {
            char buf[EXTRACTION_MAX_STRING + 1];
            memcpy(buf, s, n);
            buf[n] = '\0';
            return cJSON_AddStringToObject(o, k, buf) ? 0 : -1;
        }
    }
    if (!nullable) return 0;
    return cJSON_AddNullToObject(o, k) ? 0 : -1;
}

/* A GitHub topic as a tag: lower case [a-z0-9-], at most 50 bytes. */
static int topic_tag(const char *s, char out[51])
{
    size_t n = 0;
    for (; *s && n < 50; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && n)) out[n++] = c;
        else if (c == ' ' || c == '_') out[n++] = '-';
        else return 0;
    }
    while (n && out[n - 1] == '-') n--;
    out[n] = '\0';
    return n > 0 && !*s;
}

static int has_string(const cJSON *arr, const char *s)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) if (cJSON_IsString(v) && strcmp(v->valuestring, s) == 0) return 1;
    return 0;
}

static int add_tag(cJSON *tags, const char *s)
{
    if (has_string(tags, s) || cJSON_GetArraySize(tags) >= EXTRACTION_MAX_TAGS) return 0;
    cJSON *v = cJSON_CreateString(s);
    return v && cJSON_AddItemToArray(tags, v) ? 0 : -1;
}

/* Action verb for the event; version gets the release tag if any. */
static const char *action_of(const char *type, const cJSON *payload, const char **version)
{
    const char *act = str(get(payload, "action"));
    *version = NULL;
    if (!type) return "other";
    if (strcmp(type, "PushEvent") == 0) return "pushed";
    if (strcmp(type, "WatchEvent") == 0) return "starred";
    if (strcmp(type, "ForkEvent") == 0) return "forked";
    if (strcmp(type, "DeleteEvent") == 0) return "deleted";
    if (strcmp(type, "PublicEvent") == 0) return "published";
    if (strcmp(type, "IssueCommentEvent") == 0) return "commented";
    if (strcmp(type, "ReleaseEvent") == 0) {
        const cJSON *rel = get(payload, "release");
        *version = str(get(rel, "tag_name"));
        if (!*version) *version = str(get(rel, "name"));
        return !act || !strcmp(act, "published") || !strcmp(act, "created") ||
                       !strcmp(act, "released") || !strcmp(act, "prereleased")
                   ? "released"
                   : !strcmp(act, "edited") ? "edited" : "deleted";
    }
    if (strcmp(type, "CreateEvent") == 0) {
        const char *ref_type = str(get(payload, "ref_type"));
        if (ref_type && strcmp(ref_type, "tag") == 0) {
            *version = str(get(payload, "ref"));
            return "tagged";
        }
        return "created";
    }
    if (strcmp(type, "IssuesEvent") == 0 || strcmp(type, "PullRequestEvent") == 0) {
        if (act && strcmp(act, "closed") == 0 && cJSON_IsTrue(get(get(payload, "pull_request"), "merged")))
            return "merged";
        if (act && (!strcmp(act, "opened") || !strcmp(act, "closed") || !strcmp(act, "reopened")))
            return act;
    }
    return "other";
}

/* "v1.2.0", "1.2", "release-2024.10": a tag that names a release. */
static int versionish(const char *s)
{
    if (*s == 'v' || *s == 'V') s++;
    return *s >= '0' && *s <= '9';
}

int ex_repo(ex_doc_t *d, const cJSON *ev, cJSON *out, cJSON *tags)
{
    if (!cJSON_IsObject(ev)) return 0;
    const cJSON *repo = get(ev, "repo"), *payload = get(ev, "payload");
    const char *name = str_or_field(repo, "name");
    if (!name) name = str(get(ev, "full_name"));
    if (!name) name = str(get(ev, "name"));
    if (!name) name = str(get(get(payload, "repository"), "full_name"));
    if (!name || !*name) return 0;

    const char *actor = str_or_field(get(ev, "actor"), "login");
    if (!actor) actor = str(get(get(payload, "sender"), "login"));
    const char *type = str(get(ev, "type"));
    if (!type) type = str(get(ev, "event"));
    const char *version;
    const char *action = action_of(type, payload, &version);
    if (!version) version = str(get(ev, "tag"));
    if (!version) version = str(get(ev, "version"));

    cJSON *r = cJSON_AddObjectToObject(out, "repo");
    if (!r || add_str(r, "name", name, EXTRACTION_MAX_STRING, 0) < 0 ||
        add_str(r, "actor", actor, EXTRACTION_MAX_STRING, 1) < 0 ||
        !cJSON_AddStringToObject(r, "action", action) ||
        add_str(r, "version", version, EXTRACTION_MAX_STRING, 1) < 0)
        return -1;
    if (!cJSON_GetObjectItemCaseSensitive(r, "name")) {
        cJSON_DeleteItemFromObjectCaseSensitive(out, "repo"); /* the name was not UTF-8 */
        return 0;
    }

    cJSON *topics = cJSON_AddArrayToObject(r, "topics");
    if (!topics) return -1;
    const cJSON *src = get(ev, "topics");
    if (!src) src = get(repo, "topics");
    if (!src) src = get(get(payload, "repository"), "topics");
    const cJSON *t;
    int n = 0;
    cJSON_ArrayForEach(t, src)
    {
        char tag[51];
        if (!cJSON_IsString(t) || !topic_tag(t->valuestring, tag) || has_string(topics, tag))
            continue;
        if (++n > EX_MAX_REPO_TOPICS) break;
        cJSON *v = cJSON_CreateString(tag);
        if (!v || !cJSON_AddItemToArray(topics, v)) return -1;
    }

    /* Tags: the event is open source; a release or version tag is a
     * release; topics count as tags, and map through the taxonomy too. */
    if (add_tag(tags, "open-source") < 0) return -1;
    int is_release = !strcmp(action, "released") || (!strcmp(action, "tagged") && version &&
                                                     versionish(version));
    if (is_release && add_tag(tags, "release") < 0) return -1;
    cJSON_ArrayForEach(t, topics)
    {
        char words[51];
        size_t len = strlen(t->valuestring);
        memcpy(words, t->valuestring, len + 1);
        for (size_t i = 0; i < len; i++)
            if (words[i] == '-') words[i] = ' '; /* "machine-learning" -> "machine learning" */
        ex_tags_text(d, words, len, 2);
    }
    for (size_t i = 0; i < d->x->tax.ntags; i++)
        if (ex_tag_on(d, i) && add_tag(tags, d->x->tax.tags[i]) < 0) return -1;
    cJSON_ArrayForEach(t, topics) if (add_tag(tags, t->valuestring) < 0) return -1;

    if (is_release) {
        ex_fact_t f;
        memset(&f, 0, sizeof f);
        f.predicate = "released";
        f.subject = f.object = -1;
        f.amount = f.count = f.percent = -1;
        snprintf(f.subject_text, sizeof f.subject_text, "%.*s",
                 (int)ex_utf8_prefix(name, strlen(name), EX_NAME_MAX), name);
        if (version)
            snprintf(f.object_text, sizeof f.object_text, "%.*s",
                     (int)ex_utf8_prefix(version, strlen(version), EX_NAME_MAX), version);
        if (ex_utf8_valid(f.subject_text, strlen(f.subject_text)) &&
            ex_utf8_valid(f.object_text, strlen(f.object_text)) && d->nfact < EX_MAX_FACTS)
            d->fact[d->nfact++] = f;
    }
    return 0;
}
