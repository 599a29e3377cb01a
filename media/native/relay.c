// Carillon native RTP mover (N-API). It owns the media sockets of one media worker and moves RTP
// between paired sockets on its own I/O thread: epoll, recvmmsg, symmetric latching, SSRC/seq/ts
// continuity, sendto. It decides nothing else. Every RTP header it moves is written to a ring the
// TypeScript side drains in batches (sequence/loss/jitter statistics, DTMF, media timeout stay in
// TS); every RTCP packet goes to a second ring, and TS relays RTCP itself. Counters live in memory
// TS reads directly. Control calls (bind, pair, peer, send, release) come from the worker thread
// and take the same mutex the I/O thread holds while it handles a batch.
#define _GNU_SOURCE
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define PKT_MAX 2048
#define REC_WORDS 8          /* header ring record: 8 x uint32 */
#define RTCP_ENTRY 512       /* RTCP ring entry: 24-byte header + up to 488 bytes */
#define RTCP_HDR 24
#define RTCP_DATA (RTCP_ENTRY - RTCP_HDR)
#define CNT 17               /* counters per slot (doubles) */

/* C_RING_LOST: packets moved (or relayed) whose header or RTCP copy found the ring full, so TS
   never saw them; they are not drops. C_OUT_SSRC / C_LAST_OUT_SEQ / C_LAST_OUT_TS: what the slot's
   stream last looked like on the way out (SSRC continuity, read by TS for its own sender reports);
   C_OUT_SSRC is -1 before the first packet. */
enum { C_RX_PKTS, C_RX_BYTES, C_DROPPED, C_TX_PKTS, C_TX_BYTES, C_LATCHED, C_RELATCHES, C_PEER_IP, C_PEER_PORT, C_PEER_RTCP_PORT, C_RX_RTCP, C_RING_LOST, C_TX_RTCP_PKTS, C_TX_RTCP_BYTES, C_OUT_SSRC, C_LAST_OUT_SEQ, C_LAST_OUT_TS };

typedef struct {
  int active, fd_rtp, fd_rtcp, port, pair;
  int strict, rtcp_mux, latched, have_ssrc, rewrite;
  uint32_t peer_ip; uint16_t peer_port, peer_rtcp_port; /* network order ip, host order ports */
  uint32_t sdp_ip; uint16_t sdp_port;
  uint32_t last_ssrc, out_ssrc, ts_off, last_out_ts, ts_step;
  uint16_t seq_off, last_out_seq;
} slot_t;

typedef struct {
  pthread_mutex_t mu;
  pthread_t thread;
  int ep, stop, max_slots;
  slot_t *slots;
  double *counters;            /* max_slots * CNT */
  uint32_t *ring;              /* ring_cap * REC_WORDS */
  uint32_t ring_cap;
  _Atomic uint32_t *ctl;       /* [0] header ring write, [1] header ring read, [2] rtcp write, [3] rtcp read */
  uint8_t *rtcp;               /* rtcp_cap * RTCP_ENTRY */
  uint32_t rtcp_cap;
} relay_t;

static uint64_t now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static double *cnt(relay_t *r, int s) { return r->counters + (size_t)s * CNT; }

static void push_header(relay_t *r, int s, const uint8_t *p, int len, int off, uint64_t at) {
  uint32_t w = atomic_load_explicit(&r->ctl[0], memory_order_relaxed);
  uint32_t rd = atomic_load_explicit(&r->ctl[1], memory_order_acquire);
  if (w - rd >= r->ring_cap) { cnt(r, s)[C_RING_LOST] += 1; return; }
  uint32_t *rec = r->ring + (size_t)(w % r->ring_cap) * REC_WORDS;
  rec[0] = (uint32_t)s;
  rec[1] = (uint32_t)((p[2] << 8) | p[3]) | ((uint32_t)(p[1] & 0xff) << 16);
  rec[2] = ((uint32_t)p[4] << 24) | ((uint32_t)p[5] << 16) | ((uint32_t)p[6] << 8) | p[7];
  rec[3] = ((uint32_t)p[8] << 24) | ((uint32_t)p[9] << 16) | ((uint32_t)p[10] << 8) | p[11];
  rec[4] = (uint32_t)(at & 0xffffffffu);
  rec[5] = (uint32_t)(at >> 32);
  rec[6] = (uint32_t)(len - off);
  uint32_t first = 0;
  if (len - off >= 4) first = ((uint32_t)p[off] << 24) | ((uint32_t)p[off + 1] << 16) | ((uint32_t)p[off + 2] << 8) | p[off + 3];
  rec[7] = first;
  atomic_store_explicit(&r->ctl[0], w + 1, memory_order_release);
}

/* An RTCP compound from slot s: queued for TS to read, and relayed at once to the paired side. */
static void on_rtcp(relay_t *r, int s, const uint8_t *p, int len, const struct sockaddr_in *from, int mux, uint64_t at) {
  slot_t *x = &r->slots[s];
  if (x->strict && x->peer_port != 0 && from->sin_addr.s_addr != x->peer_ip) { cnt(r, s)[C_DROPPED] += 1; return; }
  cnt(r, s)[C_RX_RTCP] += 1;
  uint32_t w = atomic_load_explicit(&r->ctl[2], memory_order_relaxed);
  uint32_t rd = atomic_load_explicit(&r->ctl[3], memory_order_acquire);
  if (w - rd < r->rtcp_cap && len <= RTCP_DATA) {
    uint8_t *e = r->rtcp + (size_t)(w % r->rtcp_cap) * RTCP_ENTRY;
    uint32_t hdr[6] = { (uint32_t)s, (uint32_t)len, from->sin_addr.s_addr, (uint32_t)ntohs(from->sin_port) | ((uint32_t)mux << 16), (uint32_t)(at & 0xffffffffu), (uint32_t)(at >> 32) };
    memcpy(e, hdr, RTCP_HDR);
    memcpy(e + RTCP_HDR, p, (size_t)len);
    atomic_store_explicit(&r->ctl[2], w + 1, memory_order_release);
  } else {
    cnt(r, s)[C_RING_LOST] += 1;
  }
  slot_t *to = x->pair >= 0 ? &r->slots[x->pair] : NULL;
  if (to == NULL || !to->active || to->peer_port == 0) return;
  struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr.s_addr = to->peer_ip };
  dst.sin_port = htons(to->rtcp_mux ? to->peer_port : to->peer_rtcp_port);
  int fd = to->rtcp_mux ? to->fd_rtp : to->fd_rtcp;
  if (sendto(fd, p, (size_t)len, MSG_DONTWAIT, (struct sockaddr *)&dst, sizeof dst) == len) {
    double *tc = cnt(r, x->pair);
    tc[C_TX_RTCP_PKTS] += 1;
    tc[C_TX_RTCP_BYTES] += len;
  }
}

/* RTP payload offset (CSRC, extension, padding), or -1. */
static int rtp_payload(const uint8_t *p, int len, int *end) {
  if (len < 12 || (p[0] >> 6) != 2) return -1;
  int off = 12 + (p[0] & 0x0f) * 4;
  if (off > len) return -1;
  if (p[0] & 0x10) {
    if (off + 4 > len) return -1;
    off += 4 + ((p[off + 2] << 8) | p[off + 3]) * 4;
    if (off > len) return -1;
  }
  *end = len;
  if (p[0] & 0x20) {
    int pad = p[len - 1];
    if (pad == 0 || off + pad > len) return -1;
    *end = len - pad;
  }
  return off;
}

static void publish_peer(relay_t *r, int s) {
  slot_t *x = &r->slots[s];
  double *c = cnt(r, s);
  c[C_PEER_IP] = (double)ntohl(x->peer_ip);
  c[C_PEER_PORT] = x->peer_port;
  c[C_PEER_RTCP_PORT] = x->peer_rtcp_port;
  c[C_LATCHED] = x->latched;
}

static void on_rtp(relay_t *r, int s, uint8_t *p, int len, struct sockaddr_in *from, uint64_t at) {
  slot_t *x = &r->slots[s];
  double *c = cnt(r, s);
  if (len >= 2 && p[1] >= 192 && p[1] <= 223) { /* rtcp-mux */
    on_rtcp(r, s, p, len, from, 1, at);
    return;
  }
  int end;
  int off = rtp_payload(p, len, &end);
  if (off < 0) { c[C_DROPPED] += 1; return; }
  uint32_t ssrc = ((uint32_t)p[8] << 24) | ((uint32_t)p[9] << 16) | ((uint32_t)p[10] << 8) | p[11];
  uint16_t seq = (uint16_t)((p[2] << 8) | p[3]);
  uint32_t ts = ((uint32_t)p[4] << 24) | ((uint32_t)p[5] << 16) | ((uint32_t)p[6] << 8) | p[7];
  uint32_t ip = from->sin_addr.s_addr;
  uint16_t port = ntohs(from->sin_port);
  int new_source = !x->have_ssrc || ssrc != x->last_ssrc;
  if (x->strict) {
    if (x->peer_port != 0 && (ip != x->peer_ip || port != x->peer_port)) { c[C_DROPPED] += 1; return; }
  } else if (!x->latched || new_source) {
    if (x->latched && (ip != x->peer_ip || port != x->peer_port)) c[C_RELATCHES] += 1;
    x->peer_ip = ip;
    x->peer_port = port;
    x->peer_rtcp_port = x->rtcp_mux ? port : (uint16_t)(port + 1);
    x->latched = 1;
    publish_peer(r, s);
  } else if (ip != x->peer_ip || port != x->peer_port) {
    c[C_DROPPED] += 1;
    return;
  }
  if (new_source) {
    if (x->have_ssrc) {
      if (!x->rewrite) { x->rewrite = 1; x->out_ssrc = x->last_ssrc; }
      x->seq_off = (uint16_t)(x->last_out_seq + 1 - seq);
      x->ts_off = x->last_out_ts + x->ts_step - ts;
    }
    x->last_ssrc = ssrc;
    x->have_ssrc = 1;
  }
  c[C_RX_PKTS] += 1;
  c[C_RX_BYTES] += len;
  push_header(r, s, p, end, off, at);
  slot_t *to = x->pair >= 0 ? &r->slots[x->pair] : NULL;
  if (to == NULL || !to->active || to->peer_port == 0) { c[C_DROPPED] += 1; return; }
  if (x->rewrite) {
    uint16_t os = (uint16_t)(seq + x->seq_off);
    uint32_t ot = ts + x->ts_off;
    p[2] = (uint8_t)(os >> 8); p[3] = (uint8_t)os;
    p[4] = (uint8_t)(ot >> 24); p[5] = (uint8_t)(ot >> 16); p[6] = (uint8_t)(ot >> 8); p[7] = (uint8_t)ot;
    p[8] = (uint8_t)(x->out_ssrc >> 24); p[9] = (uint8_t)(x->out_ssrc >> 16); p[10] = (uint8_t)(x->out_ssrc >> 8); p[11] = (uint8_t)x->out_ssrc;
    x->last_out_seq = os;
    x->last_out_ts = ot;
  } else {
    x->last_out_seq = seq;
    x->last_out_ts = ts;
  }
  c[C_OUT_SSRC] = x->rewrite ? x->out_ssrc : x->last_ssrc;
  c[C_LAST_OUT_SEQ] = x->last_out_seq;
  c[C_LAST_OUT_TS] = x->last_out_ts;
  struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(to->peer_port), .sin_addr.s_addr = to->peer_ip };
  if (sendto(to->fd_rtp, p, (size_t)len, MSG_DONTWAIT, (struct sockaddr *)&dst, sizeof dst) == len) {
    double *tc = cnt(r, x->pair);
    tc[C_TX_PKTS] += 1;
    tc[C_TX_BYTES] += len;
  } else {
    c[C_DROPPED] += 1;
  }
}

static void *io_main(void *arg) {
  relay_t *r = arg;
  struct epoll_event evs[256];
  static __thread uint8_t bufs[BATCH][PKT_MAX];
  struct mmsghdr mm[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in from[BATCH];
  for (;;) {
    int n = epoll_wait(r->ep, evs, 256, 100);
    pthread_mutex_lock(&r->mu);
    if (r->stop) { pthread_mutex_unlock(&r->mu); break; }
    for (int e = 0; e < n; e++) {
      int s = (int)(evs[e].data.u32 >> 1);
      int is_rtcp = (int)(evs[e].data.u32 & 1);
      if (s >= r->max_slots || !r->slots[s].active) continue;
      int fd = is_rtcp ? r->slots[s].fd_rtcp : r->slots[s].fd_rtp;
      for (;;) {
        for (int i = 0; i < BATCH; i++) {
          iov[i].iov_base = bufs[i];
          iov[i].iov_len = PKT_MAX;
          memset(&mm[i].msg_hdr, 0, sizeof mm[i].msg_hdr);
          mm[i].msg_hdr.msg_iov = &iov[i];
          mm[i].msg_hdr.msg_iovlen = 1;
          mm[i].msg_hdr.msg_name = &from[i];
          mm[i].msg_hdr.msg_namelen = sizeof from[i];
        }
        int got = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
        if (got <= 0) break;
        uint64_t at = now_us();
        for (int i = 0; i < got; i++) {
          if (!r->slots[s].active) break;
          if (is_rtcp) {
            /* symmetric RTCP: the endpoint's real RTCP source */
            slot_t *x = &r->slots[s];
            if (!x->strict && x->latched && from[i].sin_addr.s_addr == x->peer_ip && !x->rtcp_mux) {
              x->peer_rtcp_port = ntohs(from[i].sin_port);
              cnt(r, s)[C_PEER_RTCP_PORT] = x->peer_rtcp_port;
            }
            on_rtcp(r, s, bufs[i], (int)mm[i].msg_len, &from[i], 0, at);
          } else {
            on_rtp(r, s, bufs[i], (int)mm[i].msg_len, &from[i], at);
          }
        }
        if (got < BATCH) break;
      }
    }
    pthread_mutex_unlock(&r->mu);
  }
  return NULL;
}

/* ---- N-API glue ---- */

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, #call); return NULL; } } while (0)

static relay_t *unwrap(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

static int arg_int(napi_env env, napi_value v) { int32_t x = 0; napi_get_value_int32(env, v, &x); return x; }

static uint32_t arg_ip(napi_env env, napi_value v) {
  char s[64] = {0};
  size_t n = 0;
  struct in_addr a = { 0 };
  if (napi_get_value_string_utf8(env, v, s, sizeof s, &n) != napi_ok || inet_pton(AF_INET, s, &a) != 1) return 0;
  return a.s_addr;
}

static napi_value num(napi_env env, double d) { napi_value v; napi_create_double(env, d, &v); return v; }

static void finalize_noop(napi_env env, void *data, void *hint) { (void)env; (void)data; (void)hint; }

/* create(maxSlots, ringRecords, rtcpEntries) → { handle, counters, ring, ctl, rtcp } */
static napi_value js_create(napi_env env, napi_callback_info info) {
  size_t argc = 3; napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  relay_t *r = calloc(1, sizeof *r);
  r->max_slots = arg_int(env, argv[0]);
  r->ring_cap = (uint32_t)arg_int(env, argv[1]);
  r->rtcp_cap = (uint32_t)arg_int(env, argv[2]);
  r->slots = calloc((size_t)r->max_slots, sizeof(slot_t));
  r->counters = calloc((size_t)r->max_slots * CNT, sizeof(double));
  r->ring = calloc((size_t)r->ring_cap * REC_WORDS, sizeof(uint32_t));
  r->ctl = calloc(4, sizeof(uint32_t));
  r->rtcp = calloc((size_t)r->rtcp_cap, RTCP_ENTRY);
  for (int i = 0; i < r->max_slots; i++) { r->slots[i].pair = -1; r->slots[i].fd_rtp = -1; r->slots[i].fd_rtcp = -1; }
  pthread_mutex_init(&r->mu, NULL);
  r->ep = epoll_create1(EPOLL_CLOEXEC);
  pthread_create(&r->thread, NULL, io_main, r);
  napi_value out, handle, counters, ring, ctl, rtcp;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_external(env, r, NULL, NULL, &handle));
  CHECK(napi_create_external_arraybuffer(env, r->counters, (size_t)r->max_slots * CNT * sizeof(double), finalize_noop, NULL, &counters));
  CHECK(napi_create_external_arraybuffer(env, r->ring, (size_t)r->ring_cap * REC_WORDS * sizeof(uint32_t), finalize_noop, NULL, &ring));
  CHECK(napi_create_external_arraybuffer(env, (void *)r->ctl, 4 * sizeof(uint32_t), finalize_noop, NULL, &ctl));
  CHECK(napi_create_external_arraybuffer(env, r->rtcp, (size_t)r->rtcp_cap * RTCP_ENTRY, finalize_noop, NULL, &rtcp));
  napi_set_named_property(env, out, "handle", handle);
  napi_set_named_property(env, out, "counters", counters);
  napi_set_named_property(env, out, "ring", ring);
  napi_set_named_property(env, out, "ctl", ctl);
  napi_set_named_property(env, out, "rtcp", rtcp);
  return out;
}

static int bind_udp(uint32_t ip, int port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = ip };
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) { int e = errno; close(fd); return -e; }
  return fd;
}

/* bindPair(handle, slot, ip, port) → 0 or -errno: RTP on port, RTCP on port + 1. */
static napi_value js_bind_pair(napi_env env, napi_callback_info info) {
  size_t argc = 4; napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  relay_t *r = unwrap(env, argv[0]);
  int s = arg_int(env, argv[1]);
  uint32_t ip = arg_ip(env, argv[2]);
  int port = arg_int(env, argv[3]);
  if (r == NULL || s < 0 || s >= r->max_slots) return num(env, -EINVAL);
  int a = bind_udp(ip, port);
  if (a < 0) return num(env, a);
  int b = bind_udp(ip, port + 1);
  if (b < 0) { close(a); return num(env, b); }
  pthread_mutex_lock(&r->mu);
  slot_t *x = &r->slots[s];
  memset(x, 0, sizeof *x);
  x->fd_rtp = a; x->fd_rtcp = b; x->port = port; x->pair = -1; x->active = 1; x->ts_step = 160;
  memset(cnt(r, s), 0, CNT * sizeof(double));
  cnt(r, s)[C_OUT_SSRC] = -1;
  struct epoll_event ev = { .events = EPOLLIN };
  ev.data.u32 = (uint32_t)s << 1;
  epoll_ctl(r->ep, EPOLL_CTL_ADD, a, &ev);
  ev.data.u32 = ((uint32_t)s << 1) | 1;
  epoll_ctl(r->ep, EPOLL_CTL_ADD, b, &ev);
  pthread_mutex_unlock(&r->mu);
  return num(env, 0);
}

/* Unpairs slot s (and its partner, if it still points back). Caller holds the mutex. */
static void unpair(relay_t *r, int s) {
  int p = r->slots[s].pair;
  if (p >= 0 && r->slots[p].pair == s) r->slots[p].pair = -1;
  r->slots[s].pair = -1;
}

/* pair(handle, a, b, tsStepA, tsStepB): a and b relay to each other from now on, each leaving its
   earlier partner; b = -1 only unpairs a. A step is the RTP timestamp advance assumed across an
   SSRC change of that slot's stream (one packet). */
static napi_value js_pair(napi_env env, napi_callback_info info) {
  size_t argc = 5; napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  relay_t *r = unwrap(env, argv[0]);
  int a = arg_int(env, argv[1]), b = arg_int(env, argv[2]), step_a = arg_int(env, argv[3]), step_b = arg_int(env, argv[4]);
  if (r == NULL || a < 0 || b < -1 || a >= r->max_slots || b >= r->max_slots || a == b) return num(env, -EINVAL);
  pthread_mutex_lock(&r->mu);
  unpair(r, a);
  r->slots[a].ts_step = (uint32_t)step_a;
  if (b >= 0) {
    unpair(r, b);
    r->slots[a].pair = b; r->slots[b].pair = a;
    r->slots[b].ts_step = (uint32_t)step_b;
  }
  pthread_mutex_unlock(&r->mu);
  return num(env, 0);
}

/* setPeer(handle, slot, ip | '', port, rtcpPort, strict, rtcpMux): an SDP address; a changed one drops the latch. */
static napi_value js_set_peer(napi_env env, napi_callback_info info) {
  size_t argc = 7; napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  relay_t *r = unwrap(env, argv[0]);
  int s = arg_int(env, argv[1]);
  uint32_t ip = arg_ip(env, argv[2]);
  int port = arg_int(env, argv[3]), rport = arg_int(env, argv[4]), strict = arg_int(env, argv[5]), mux = arg_int(env, argv[6]);
  if (r == NULL || s < 0 || s >= r->max_slots) return num(env, -EINVAL);
  pthread_mutex_lock(&r->mu);
  slot_t *x = &r->slots[s];
  int changed = ip != x->sdp_ip || port != x->sdp_port;
  x->sdp_ip = ip; x->sdp_port = (uint16_t)port;
  x->strict = strict; x->rtcp_mux = mux;
  if (!(x->latched && !strict && ip != 0 && !changed)) {
    x->latched = 0;
    x->peer_ip = ip;
    x->peer_port = ip == 0 ? 0 : (uint16_t)port;
    x->peer_rtcp_port = mux ? (uint16_t)port : (uint16_t)rport;
    publish_peer(r, s);
  }
  pthread_mutex_unlock(&r->mu);
  return num(env, 0);
}

/* send(handle, slot, buffer, length, viaRtcpSocket, ip, port) → bytes sent or -errno. */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 7; napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  relay_t *r = unwrap(env, argv[0]);
  int s = arg_int(env, argv[1]);
  void *data = NULL; size_t blen = 0;
  if (napi_get_buffer_info(env, argv[2], &data, &blen) != napi_ok) return num(env, -EINVAL);
  int len = arg_int(env, argv[3]), via_rtcp = arg_int(env, argv[4]);
  uint32_t ip = arg_ip(env, argv[5]);
  int port = arg_int(env, argv[6]);
  if (r == NULL || s < 0 || s >= r->max_slots || len < 0 || (size_t)len > blen) return num(env, -EINVAL);
  pthread_mutex_lock(&r->mu);
  slot_t *x = &r->slots[s];
  int fd = x->active ? (via_rtcp ? x->fd_rtcp : x->fd_rtp) : -1;
  ssize_t n = -EBADF;
  if (fd >= 0) {
    struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = ip };
    n = sendto(fd, data, (size_t)len, MSG_DONTWAIT, (struct sockaddr *)&dst, sizeof dst);
    if (n < 0) n = -errno;
  }
  pthread_mutex_unlock(&r->mu);
  return num(env, (double)n);
}

/* release(handle, slot): closes the slot's sockets. */
static napi_value js_release(napi_env env, napi_callback_info info) {
  size_t argc = 2; napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  relay_t *r = unwrap(env, argv[0]);
  int s = arg_int(env, argv[1]);
  if (r == NULL || s < 0 || s >= r->max_slots) return num(env, -EINVAL);
  pthread_mutex_lock(&r->mu);
  slot_t *x = &r->slots[s];
  if (x->active) {
    epoll_ctl(r->ep, EPOLL_CTL_DEL, x->fd_rtp, NULL);
    epoll_ctl(r->ep, EPOLL_CTL_DEL, x->fd_rtcp, NULL);
    close(x->fd_rtp);
    close(x->fd_rtcp);
    unpair(r, s);
    x->active = 0; x->fd_rtp = -1; x->fd_rtcp = -1;
  }
  pthread_mutex_unlock(&r->mu);
  return num(env, 0);
}

/* destroy(handle): stops the I/O thread and closes every socket. The buffers stay (TS may still hold views). */
static napi_value js_destroy(napi_env env, napi_callback_info info) {
  size_t argc = 1; napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  relay_t *r = unwrap(env, argv[0]);
  if (r == NULL || r->stop) return num(env, 0);
  pthread_mutex_lock(&r->mu);
  r->stop = 1;
  pthread_mutex_unlock(&r->mu);
  pthread_join(r->thread, NULL);
  for (int s = 0; s < r->max_slots; s++) {
    if (!r->slots[s].active) continue;
    close(r->slots[s].fd_rtp);
    close(r->slots[s].fd_rtcp);
    r->slots[s].active = 0;
  }
  close(r->ep);
  return num(env, 0);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "create", NULL, js_create, NULL, NULL, NULL, napi_default, NULL },
    { "bindPair", NULL, js_bind_pair, NULL, NULL, NULL, napi_default, NULL },
    { "pair", NULL, js_pair, NULL, NULL, NULL, napi_default, NULL },
    { "setPeer", NULL, js_set_peer, NULL, NULL, NULL, napi_default, NULL },
    { "send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL },
    { "release", NULL, js_release, NULL, NULL, NULL, napi_default, NULL },
    { "destroy", NULL, js_destroy, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
