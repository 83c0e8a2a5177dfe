/* Every route that creates passes the policy: the route table is walked, each POST route is either
 * a creating route with a body (or a stored project) that the restricted policy must refuse, or
 * listed below as not creating anything, with the reason. A creating route is called as a
 * restricted operator against a small fake engine that records every request: the answer must
 * be 403 policy_denied and the engine must have seen no POST at all. A new POST route in
 * neither list fails this test until someone decides which it is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api.h"

/* ---- a fake engine: _ping and /version answered, every other request recorded ---- */

static char sock_path[108], state_dir[64];
static int lfd = -1;
static atomic_int posts, stop_fake;
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static char seen[4096];

static void answer(int fd, int status, const char *extra, const char *body)
{
        char head[512];
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%s"
                         "Content-Length: %zu\r\n\r\n",
                         status, extra, strlen(body));
        if (send(fd, head, (size_t)n, MSG_NOSIGNAL) < 0 ||
            send(fd, body, strlen(body), MSG_NOSIGNAL) < 0)
                return;
}

static void *conn_main(void *arg)
{
        int fd = (int)(intptr_t)arg;
        char buf[65536];
        size_t have = 0;
        for (;;) {
                ssize_t r = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
                if (r <= 0)
                        break;
                have += (size_t)r;
                buf[have] = 0;
                char *end = strstr(buf, "\r\n\r\n");
                if (!end)
                        continue;
                size_t head = (size_t)(end + 4 - buf), clen = 0;
                char *cl = strcasestr(buf, "Content-Length:");
                if (cl && cl < end)
                        clen = strtoul(cl + 15, NULL, 10);
                while (have < head + clen && have < sizeof(buf) - 1) {
                        if ((r = recv(fd, buf + have, sizeof(buf) - 1 - have, 0)) <= 0)
                                goto out;
                        have += (size_t)r;
                }
                char method[16] = "", path[512] = "";
                sscanf(buf, "%15s %511s", method, path);
                if (strstr(path, "/_ping")) {
                        answer(fd, 200, "Api-Version: 1.41\r\n", "OK");
                } else if (strstr(path, "/version")) {
                        answer(fd, 200, "",
                               "{\"Version\":\"20.10.24\",\"ApiVersion\":\"1.41\","
                               "\"Components\":[{\"Name\":\"Engine\"}]}");
                } else {
                        pthread_mutex_lock(&seen_mu);
                        snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s %s\n",
                                 method, path);
                        pthread_mutex_unlock(&seen_mu);
                        if (!strcmp(method, "POST"))
                                atomic_fetch_add(&posts, 1);
                        if (strstr(path, "/containers/json"))
                                answer(fd, 200, "", "[]");
                        else
                                answer(fd, 404, "", "{\"message\":\"no such thing\"}");
                }
                size_t used = head + clen < have ? head + clen : have;
                memmove(buf, buf + used, have - used);
                have -= used;
        }
out:
        close(fd);
        return NULL;
}

static void *accept_main(void *arg)
{
        while (!atomic_load(&stop_fake)) {
                int fd = accept(lfd, NULL, NULL);
                if (fd < 0)
                        continue;
                pthread_t t;
                if (pthread_create(&t, NULL, conn_main, (void *)(intptr_t)fd) == 0)
                        pthread_detach(t);
                else
                        close(fd);
        }
        return NULL;
}

/* ---- cmsd in-process ---- */

static struct cms_manager *mgr;
static struct cms_api *api;
static int port;
static pthread_t accept_thr;

static int free_port(void)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t l = sizeof(sa);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        getsockname(fd, (struct sockaddr *)&sa, &l);
        close(fd);
        return ntohs(sa.sin_port);
}

/* A stored project whose service the restricted policy refuses (privileged, a build context and
 * a bind outside any allowed path): for the routes that work from the stored file. */
static void store_project(void)
{
        char dir[128], path[160];
        snprintf(dir, sizeof(dir), "%s/projects", state_dir);
        mkdir(dir, 0700);
        snprintf(path, sizeof(path), "%s/bad.json", dir);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string("bad"));
        json_object_object_add(
            o, "compose",
            json_object_new_string("services:\n  web:\n    image: x/web:1\n    privileged: true\n"
                                   "    build: {context: /etc}\n    volumes: [\"/:/host\"]\n"));
        assert_int_equal(json_object_to_file(path, o), 0);
        json_object_put(o);
}

static int setup(void **state)
{
        cms_log_set_level(CMS_LOG_ERROR);
        snprintf(state_dir, sizeof(state_dir), "/tmp/cmsd-test-polr-XXXXXX");
        assert_non_null(mkdtemp(state_dir));
        snprintf(sock_path, sizeof(sock_path), "%s/engine.sock", state_dir);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
        lfd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(lfd, 64), 0);
        assert_int_equal(pthread_create(&accept_thr, NULL, accept_main, NULL), 0);
        store_project();
        port = free_port();
        char yaml[1024];
        snprintf(yaml, sizeof(yaml),
                 "listen: [\"127.0.0.1:%d\"]\nstate_dir: %s\nengine: unix://%s\n"
                 "tokens:\n  - {name: op, role: operator, token: t-op}\n",
                 port, state_dir, sock_path);
        struct cms_config *cfg = NULL;
        struct cms_config_error cerr = {0};
        assert_int_equal(cms_config_load_string(yaml, strlen(yaml), "test", &cfg, &cerr), 0);
        struct cms_error err = {0};
        assert_int_equal(cms_manager_new(cfg, &mgr, &err), 0);
        assert_int_equal(cms_api_start(mgr, &api, &err), 0);
        return 0;
}

static int teardown(void **state)
{
        cms_api_stop(api);
        cms_manager_free(mgr);
        atomic_store(&stop_fake, 1);
        shutdown(lfd, SHUT_RDWR);
        close(lfd);
        pthread_join(accept_thr, NULL);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", state_dir);
        return 0;
}

static size_t on_body(char *p, size_t s, size_t n, void *ud)
{
        cms_buf_append(ud, p, s * n);
        return s * n;
}

static long post(const char *path, const char *body, json_object **reply)
{
        CURL *c = curl_easy_init();
        char url[512];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
        struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer t-op");
        h = curl_slist_append(h, "Content-Type: application/json");
        struct cms_buf b;
        cms_buf_init(&b, 0);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
        long status = 0;
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        curl_slist_free_all(h);
        cms_buf_append(&b, "", 1);
        *reply = json_tokener_parse(b.data);
        cms_buf_free(&b);
        return status;
}

/* Creating routes: the body each is tried with (the name is the route table's). */
static const struct {
        const char *route, *path, *body;
} creating[] = {
    {"containers_create", "/v1/containers", "{\"image\":\"x/a:1\",\"privileged\":true}"},
    {"deploy", "/v1/deploy",
     "{\"image\":\"x/a:1\",\"volumes\":[{\"source\":\"/\",\"target\":\"/h\"}]}"},
    {"volumes_create", "/v1/volumes",
     "{\"name\":\"vol\",\"options\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/etc\"}}"},
    {"networks_create", "/v1/networks", "{\"name\":\"net\",\"driver\":\"macvlan\"}"},
    {"projects_up", "/v1/projects",
     "{\"name\":\"p\",\"compose\":\"services:\\n  w:\\n    image: x/a:1\\n    cap_add: "
     "[SYS_ADMIN]\\n\"}"},
    {"project_up", "/v1/projects/bad/up", "{}"},
    {"project_scale", "/v1/projects/bad/scale", "{\"web\":2}"},
    {"project_build", "/v1/projects/bad/build", "{}"},
    {"project_pull", "/v1/projects/bad/pull", "{}"},
    {"stacks_deploy", "/v1/stacks",
     "{\"name\":\"s\",\"compose\":\"services:\\n  w:\\n    image: x/a:1\\n    cap_add: "
     "[SYS_ADMIN]\\n\"}"},
};

/* POST routes that create nothing a policy governs, and why. */
static const struct {
        const char *route, *why;
} not_creating[] = {
    {"policy_check", "answers what would be denied; creates nothing"},
    {"projects_config_dry", "the normalized model of the files sent; creates nothing (env_file "
                            "is read under the caller's policy)"},
    {"projects_config_dry", "parses a compose file and answers its model; creates nothing"},
    {"system_prune", "removes only"},
    {"start", "acts on an existing container"},
    {"stop", "acts on an existing container"},
    {"restart", "acts on an existing container"},
    {"pause", "acts on an existing container"},
    {"unpause", "acts on an existing container"},
    {"kill", "acts on an existing container"},
    {"container_exec", "runs in an existing container; exec has no privileged or host option"},
    {"networks_prune", "removes only"},
    {"network_connect", "joins an existing container to an existing network"},
    {"network_disconnect", "removes a link only"},
    {"volumes_prune", "removes only"},
    {"project_down", "removes only"},
    {"project_start", "starts containers that exist, from their labels"},
    {"project_stop", "acts on existing containers"},
    {"project_restart", "acts on existing containers"},
    {"images_pull", "fetches an image; runs nothing"},
    {"images_build", "builds from the uploaded context only: no host path, no host namespace"},
    {"images_prune", "removes only"},
    {"image_push", "uploads an image; runs nothing"},
    {"image_tag", "names an image; runs nothing"},
    {"image_scan", "reads the image's export and cmsd's vulnerability data; creates nothing"},
    {"vulndb_import", "admin only; writes cmsd's own state_dir/vulndb, nothing on the engine"},
    {"node_update", "admin only; a node's availability, nothing runs"},
    {"stack_scale", "replicas of services already on the swarm; their spec does not change"},
};

static void test_every_creating_route_is_checked(void **state)
{
        size_t n;
        const struct cms_route *t = cms_router_table(&n);
        size_t tried = 0;
        for (size_t i = 0; i < n; i++) {
                if (strcmp(t[i].method, "POST") && strcmp(t[i].method, "PUT"))
                        continue;
                bool listed = false;
                for (size_t k = 0; k < ELEMENTSOF(not_creating); k++)
                        listed = listed || !strcmp(not_creating[k].route, t[i].name);
                if (listed)
                        continue;
                size_t k = 0;
                while (k < ELEMENTSOF(creating) && strcmp(creating[k].route, t[i].name))
                        k++;
                if (k == ELEMENTSOF(creating))
                        fail_msg("POST %s (%s) is in neither list: does it create?", t[i].pattern,
                                 t[i].name);
                atomic_store(&posts, 0);
                pthread_mutex_lock(&seen_mu); /* the fake engine's thread may still append */
                seen[0] = 0;
                pthread_mutex_unlock(&seen_mu);
                json_object *reply = NULL;
                long status = post(creating[k].path, creating[k].body, &reply);
                const char *code =
                    json_object_get_string(cms_json_get(cms_json_get(reply, "error"), "code"));
                if (status != 403 || !code || strcmp(code, "policy_denied"))
                        fail_msg("%s: %ld %s", creating[k].route, status,
                                 json_object_to_json_string(reply));
                if (atomic_load(&posts))
                        fail_msg("%s: the engine was sent:\n%s", creating[k].route, seen);
                json_object_put(reply);
                tried++;
        }
        assert_int_equal(tried, ELEMENTSOF(creating));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_every_creating_route_is_checked),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
