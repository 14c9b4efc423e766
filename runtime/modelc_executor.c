/* The generic executor of modelc artifacts (see executor.h). Compiled into
 * every artifact for its target; needs only the Halide runtime and a few libc
 * functions, declared here so that it builds without a target sysroot.
 *
 * The same code serves CPU and GPU targets: on a GPU target (CUDA, OpenCL)
 * each tensor's halide_buffer_t also owns a device allocation, made by the
 * kernels that first touch it, and Halide copies between host and device as
 * the buffers' dirty flags say. The executor marks what the caller wrote
 * (inputs each run, weights once) as dirty on the host, copies every output
 * back to the host at the end of a run, and frees device memory on destroy.
 * On a CPU target no buffer has a device, and those steps do nothing. */
#include "executor.h"

#include <HalideRuntime.h>

extern void* memcpy(void* dst, const void* src, size_t n);
extern void* memset(void* dst, int c, size_t n);
extern int strcmp(const char* a, const char* b);
extern size_t strlen(const char* s);
extern int snprintf(char* out, size_t size, const char* format, ...);
extern void abort(void);
/* In Halide's runtime, not in HalideRuntime.h (and not in Hexagon's). */
#if defined(__hexagon__)
static int halide_host_cpu_count(void) { return 1; }
#else
extern int halide_host_cpu_count(void);
#endif

/* How many threads the kernels of one run may use at once. */
typedef struct mc_parallelism {
  int32_t max_threads;
} mc_parallelism;

struct modelc_model {
  const mc_plan* plan;
  unsigned char* arena;
  halide_buffer_t* buffers;      /* one per tensor */
  halide_dimension_t* dims;      /* MC_MAX_RANK per tensor */
  void** args;                   /* step_args resolved to buffers */
  mc_parallelism parallelism;    /* from create(num_threads) */
  char error[256];
};

/* Threads per instance.
 *
 * The artifact's Halide runtime has one thread pool, and
 * halide_set_num_threads() sizes it for every caller at once: setting it per
 * instance would let the last create() (or a run of another instance at the
 * same moment) decide how many threads every instance uses. So the pool is
 * sized once for the largest count any instance asked for, and the executor
 * installs its own halide_do_par_for, which reads the count of the run in
 * progress on the calling thread (mc_current) and:
 *   - with one thread, runs the loop on the calling thread (the pool is not
 *     touched, so a 1-thread instance never wakes a worker);
 *   - with n threads, hands the pool min(n, iterations) tasks that take loop
 *     iterations from a shared counter, so at most n threads work on the loop,
 *     and loops nested inside those tasks run on the task's own thread.
 * Concurrent runs of distinct instances each keep their own limit; they share
 * the pool's cores. */
static __thread const mc_parallelism* mc_current;
static const mc_parallelism mc_one_thread = {1};
static struct halide_mutex mc_pool_lock;
static int32_t mc_pool_threads; /* the pool's size; only grows */

/* Halide's default error handler prints and aborts the process (a GPU
 * target without its driver, for one): the executor's handler keeps the
 * message for last_error() of the model whose run it is, on the thread
 * running it (mc_running; a parallel loop's tasks inherit it), and the
 * kernel's error code makes the run fail. */
static __thread modelc_model* mc_running;

static int mc_serial_for(void* user_context, halide_task_t f, int min, int size, uint8_t* closure) {
  int x;
  for (x = min; x < min + size; ++x) {
    int rc = f(user_context, x, closure);
    if (rc != 0) return rc;
  }
  return 0;
}

/* A parallel loop's iterations are cut into one contiguous part per member
 * of the team: a kernel's loop runs rows of its output, consecutive rows
 * share weights (one channel tile of a convolution), and handing them out
 * one at a time to whichever thread asked made both cores read every
 * weight (a 7x7 1x1 convolution with 614 KB of weights ran no faster on two
 * cores than on one). A member takes its own part from the front, then
 * helps the others with what is left of theirs. Member 0 is the calling
 * thread and member i the pool's worker i (or Halide's task i): it had been
 * whichever arrived first, so two kernels split the same way could give a
 * core the other core's rows of the first kernel's output. */
#define MC_TEAM_MAX 64
typedef struct mc_part {
  int next; /* the next iteration of this part to take; atomically incremented */
  int end;
} __attribute__((aligned(64))) mc_part;

typedef struct mc_team {
  halide_task_t f;
  uint8_t* closure;
  void* user_context;
  modelc_model* model; /* whose run the loop belongs to (for error messages) */
  int members;
  int failed; /* a task returned an error: the others stop taking iterations */
  mc_part parts[MC_TEAM_MAX];
} mc_team;

static void mc_team_init(mc_team* team, int min, int size, int members) {
  int m;
  team->members = members;
  team->failed = 0;
  for (m = 0; m < members; ++m) {
    team->parts[m].next = min + (int)((long long)size * m / members);
    team->parts[m].end = min + (int)((long long)size * (m + 1) / members);
  }
}

static int mc_team_task(void* user_context, int me, uint8_t* closure) {
  mc_team* team = (mc_team*)closure;
  const mc_parallelism* outer = mc_current;
  modelc_model* outer_model = mc_running;
  int rc = 0, k;
  mc_current = &mc_one_thread; /* nested loops stay on this thread: the team is the limit */
  mc_running = team->model;
  for (k = 0; k < team->members && rc == 0; ++k) {
    mc_part* part = &team->parts[(me + k) % team->members];
    while (!__atomic_load_n(&team->failed, __ATOMIC_RELAXED)) {
      int x = __atomic_fetch_add(&part->next, 1, __ATOMIC_RELAXED);
      if (x >= part->end) break;
      rc = team->f(user_context, x, team->closure);
      if (rc != 0) {
        __atomic_store_n(&team->failed, 1, __ATOMIC_RELAXED);
        break;
      }
    }
  }
  mc_current = outer;
  mc_running = outer_model;
  return rc;
}

/* The spinning team.
 *
 * Halide's pool puts a worker to sleep as soon as it finds no work, so each
 * parallel loop that follows a serial kernel first wakes a thread, which on
 * a virtual machine took longer than the loop: at two threads, kernels of
 * 10-150 us ran no faster than on one (the calling thread took every
 * iteration before the worker arrived, then waited for it). The executor
 * keeps its own workers (threads - 1 of the largest instance), each with a
 * slot the calling thread posts a team to (started by the first parallel
 * loop that needs them, stopped with the last instance); a worker spins on its slot for
 * a while (MC_SPIN_ROUNDS pauses, a few hundred microseconds) before it
 * sleeps, so consecutive kernels of a run find it awake, as ONNX Runtime's
 * spinning pool does. A worker that has not started by the time the caller
 * ran out of iterations is called off rather than waited for. One caller
 * holds the workers at a time; a concurrent run of another instance uses
 * Halide's pool. WebAssembly and Hexagon have no threads here. */
#if !defined(__wasm__) && !defined(__hexagon__)
#define MC_SPIN_POOL 1
#define MC_POOL_MAX 63
#define MC_SPIN_ROUNDS 16384
enum { MC_SLOT_IDLE = 0, MC_SLOT_POSTED = 1, MC_SLOT_RUNNING = 2 };

typedef struct mc_worker {
  int32_t slot;     /* MC_SLOT_*: the caller posts, the worker takes, either returns it to idle */
  int32_t sleeping; /* the worker waits on mc_pool.wake */
  int32_t rc;
  mc_team* team;
  struct halide_thread* thread;
} __attribute__((aligned(64))) mc_worker;

static struct {
  struct halide_mutex lock; /* for sleeping, waking and spawning */
  struct halide_cond wake;
  int32_t busy;  /* a caller holds the workers */
  int32_t stop;
  int32_t count; /* workers running */
  mc_worker workers[MC_POOL_MAX];
} mc_pool;

static void mc_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static void mc_worker_main(void* arg) {
  mc_worker* w = (mc_worker*)arg;
  for (;;) {
    int32_t spins = 0, posted = MC_SLOT_POSTED;
    while (__atomic_load_n(&w->slot, __ATOMIC_ACQUIRE) != MC_SLOT_POSTED) {
      if (__atomic_load_n(&mc_pool.stop, __ATOMIC_ACQUIRE)) return;
      if (++spins < MC_SPIN_ROUNDS) {
        mc_relax();
        continue;
      }
      halide_mutex_lock(&mc_pool.lock);
      __atomic_store_n(&w->sleeping, 1, __ATOMIC_SEQ_CST);
      while (__atomic_load_n(&w->slot, __ATOMIC_SEQ_CST) != MC_SLOT_POSTED && !__atomic_load_n(&mc_pool.stop, __ATOMIC_SEQ_CST))
        halide_cond_wait(&mc_pool.wake, &mc_pool.lock);
      __atomic_store_n(&w->sleeping, 0, __ATOMIC_RELAXED);
      halide_mutex_unlock(&mc_pool.lock);
      spins = 0;
    }
    /* The caller may have called the team off meanwhile. */
    if (!__atomic_compare_exchange_n(&w->slot, &posted, MC_SLOT_RUNNING, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) continue;
    w->rc = mc_team_task(w->team->user_context, (int)(w - mc_pool.workers) + 1, (uint8_t*)w->team);
    __atomic_store_n(&w->slot, MC_SLOT_IDLE, __ATOMIC_RELEASE);
  }
}

static void mc_pool_grow(int32_t wanted);

/* Runs `team` on the calling thread and `helpers` workers and stores the
 * loop's result in *rc; 0 (nothing run) when the workers are held by another
 * caller or too few, and the caller falls back to Halide's pool. (A task's
 * own error code may be any negative value, so it is not the signal.) */
static int mc_pool_run(mc_team* team, int helpers, int* result) {
  int i, rc, wake = 0;
  int32_t idle = 0;
  if (helpers > __atomic_load_n(&mc_pool.count, __ATOMIC_ACQUIRE)) {
    halide_mutex_lock(&mc_pool_lock);
    mc_pool_grow(helpers);
    halide_mutex_unlock(&mc_pool_lock);
    if (helpers > __atomic_load_n(&mc_pool.count, __ATOMIC_ACQUIRE)) return 0;
  }
  if (!__atomic_compare_exchange_n(&mc_pool.busy, &idle, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return 0;
  for (i = 0; i < helpers; ++i) {
    mc_worker* w = &mc_pool.workers[i];
    w->team = team;
    __atomic_store_n(&w->slot, MC_SLOT_POSTED, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&w->sleeping, __ATOMIC_SEQ_CST)) wake = 1;
  }
  if (wake) {
    halide_mutex_lock(&mc_pool.lock);
    halide_cond_broadcast(&mc_pool.wake);
    halide_mutex_unlock(&mc_pool.lock);
  }
  rc = mc_team_task(team->user_context, 0, (uint8_t*)team);
  for (i = 0; i < helpers; ++i) {
    mc_worker* w = &mc_pool.workers[i];
    int32_t posted = MC_SLOT_POSTED;
    if (__atomic_compare_exchange_n(&w->slot, &posted, MC_SLOT_IDLE, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) continue;
    while (__atomic_load_n(&w->slot, __ATOMIC_ACQUIRE) != MC_SLOT_IDLE) mc_relax();
    if (rc == 0) rc = w->rc;
  }
  __atomic_store_n(&mc_pool.busy, 0, __ATOMIC_RELEASE);
  *result = rc;
  return 1;
}

/* Grows the workers to `wanted` (at most MC_POOL_MAX); under mc_pool_lock. */
static void mc_pool_grow(int32_t wanted) {
  if (wanted > MC_POOL_MAX) wanted = MC_POOL_MAX;
  while (mc_pool.count < wanted) {
    mc_worker* w = &mc_pool.workers[mc_pool.count];
    w->slot = MC_SLOT_IDLE;
    w->sleeping = 0;
    w->thread = halide_spawn_thread(mc_worker_main, w);
    if (!w->thread) break;
    __atomic_store_n(&mc_pool.count, mc_pool.count + 1, __ATOMIC_RELEASE);
  }
}

/* Stops and joins the workers (the last instance is gone: no run is in progress). */
static void mc_pool_stop(void) {
  int32_t i, n = mc_pool.count;
  if (n == 0) return;
  halide_mutex_lock(&mc_pool.lock);
  __atomic_store_n(&mc_pool.stop, 1, __ATOMIC_SEQ_CST);
  halide_cond_broadcast(&mc_pool.wake);
  halide_mutex_unlock(&mc_pool.lock);
  for (i = 0; i < n; ++i) halide_join_thread(mc_pool.workers[i].thread);
  mc_pool.count = 0;
  __atomic_store_n(&mc_pool.stop, 0, __ATOMIC_SEQ_CST);
}
#endif

static int mc_do_par_for(void* user_context, halide_task_t f, int min, int size, uint8_t* closure) {
  const mc_parallelism* p = mc_current;
  mc_team team;
  int members;
  if (size <= 0) return 0;
  /* Every kernel runs inside mc_run, which sets mc_current; without one, behave as Halide does. */
  if (!p) return halide_default_do_par_for(user_context, f, min, size, closure);
  if (p->max_threads <= 1 || size == 1) return mc_serial_for(user_context, f, min, size, closure);
  members = p->max_threads < size ? p->max_threads : size;
  if (members > MC_TEAM_MAX) members = MC_TEAM_MAX;
  team.f = f;
  team.closure = closure;
  team.user_context = user_context;
  team.model = mc_running;
  mc_team_init(&team, min, size, members);
#if MC_SPIN_POOL
  {
    int rc;
    if (mc_pool_run(&team, members - 1, &rc)) return rc;
  }
#endif
  return halide_default_do_par_for(user_context, mc_team_task, 0, members, (uint8_t*)&team);
}

static void mc_error_handler(void* user_context, const char* message) {
  modelc_model* m = mc_running;
  size_t n;
  (void)user_context;
  if (!m || m->error[0] != '\0') return;
  snprintf(m->error, sizeof m->error, "%s", message);
  n = strlen(m->error);
  while (n > 0 && (m->error[n - 1] == '\n' || m->error[n - 1] == ' ')) m->error[--n] = '\0';
}

static void mc_reserve_threads(int32_t threads) {
  halide_mutex_lock(&mc_pool_lock);
  if (mc_pool_threads == 0) {
    halide_set_custom_do_par_for(mc_do_par_for);
    halide_set_error_handler(mc_error_handler);
  }
  if (threads > mc_pool_threads) {
    mc_pool_threads = threads;
    halide_set_num_threads(threads);
  }
  halide_mutex_unlock(&mc_pool_lock);
}

/* Scratch memory of kernels.
 *
 * Kernels allocate their intermediate buffers (a padded input, Winograd's
 * transformed tiles) with halide_malloc at every call. Large blocks come from
 * mmap, so each run paid page faults and zeroing for every one of them: a
 * fifth of ResNet-18's time. Freed blocks of 16 KiB or more are kept in a
 * small cache and handed out again for the same size; a run of a model
 * repeats the same allocations, so after the first run they all hit. The
 * cache is emptied when the last instance is destroyed. */
#define MC_SCRATCH_SLOTS 64
#define MC_SCRATCH_MIN ((size_t)16 << 10)
#define MC_SCRATCH_HEADER 128 /* keeps halide_default_malloc's alignment */
typedef struct mc_scratch_slot {
  void* block;  /* as halide_default_malloc returned it */
  size_t size;  /* bytes the caller asked for */
} mc_scratch_slot;
static mc_scratch_slot mc_scratch[MC_SCRATCH_SLOTS];
static struct halide_mutex mc_scratch_lock;
static int32_t mc_instances;

/* CPU kernels are compiled without Halide's run-time checks (lower/
 * kernel_builder.cpp, parse_target), so a kernel would use a NULL scratch
 * buffer: an exhausted heap stops the program with a message instead. */
static void mc_out_of_memory(void* user_context, size_t size) {
  char message[160];
  snprintf(message, sizeof message, "modelc: out of memory: a kernel's scratch buffer of %llu bytes could not be allocated\n",
           (unsigned long long)size);
  halide_print(user_context, message);
  abort();
}

static void* mc_scratch_malloc(void* user_context, size_t size) {
  unsigned char* block = NULL;
  int i;
  if (size >= MC_SCRATCH_MIN) {
    halide_mutex_lock(&mc_scratch_lock);
    for (i = 0; i < MC_SCRATCH_SLOTS && !block; ++i)
      if (mc_scratch[i].block && mc_scratch[i].size == size) {
        block = (unsigned char*)mc_scratch[i].block;
        mc_scratch[i].block = NULL;
      }
    halide_mutex_unlock(&mc_scratch_lock);
  }
  if (!block) block = (unsigned char*)halide_default_malloc(user_context, size + MC_SCRATCH_HEADER);
  if (!block) mc_out_of_memory(user_context, size);
  memcpy(block, &size, sizeof size);
  return block + MC_SCRATCH_HEADER;
}

static void mc_scratch_free(void* user_context, void* ptr) {
  unsigned char* block;
  size_t size;
  int i;
  if (!ptr) return;
  block = (unsigned char*)ptr - MC_SCRATCH_HEADER;
  memcpy(&size, block, sizeof size);
  if (size >= MC_SCRATCH_MIN) {
    halide_mutex_lock(&mc_scratch_lock);
    for (i = 0; i < MC_SCRATCH_SLOTS && block; ++i)
      if (!mc_scratch[i].block) {
        mc_scratch[i].block = block;
        mc_scratch[i].size = size;
        block = NULL;
      }
    halide_mutex_unlock(&mc_scratch_lock);
  }
  if (block) halide_default_free(user_context, block);
}

static void mc_instance_created(void) {
  halide_mutex_lock(&mc_scratch_lock);
  if (mc_instances++ == 0) {
    halide_set_custom_malloc(mc_scratch_malloc);
    halide_set_custom_free(mc_scratch_free);
  }
  halide_mutex_unlock(&mc_scratch_lock);
}

/* The scratch cache outlives runs, not instances: the last destroy empties it. */
static void mc_instance_destroyed(void) {
  int i;
  halide_mutex_lock(&mc_scratch_lock);
  if (--mc_instances == 0) {
#if MC_SPIN_POOL
    halide_mutex_lock(&mc_pool_lock);
    mc_pool_stop();
    halide_mutex_unlock(&mc_pool_lock);
#endif
    for (i = 0; i < MC_SCRATCH_SLOTS; ++i)
      if (mc_scratch[i].block) {
        halide_default_free(NULL, mc_scratch[i].block);
        mc_scratch[i].block = NULL;
      }
  }
  halide_mutex_unlock(&mc_scratch_lock);
}

static struct halide_type_t mc_halide_type(int32_t dtype) {
  struct halide_type_t t;
  t.lanes = 1;
  switch (dtype) {
    case MODELC_FLOAT32: t.code = halide_type_float; t.bits = 32; break;
    case MODELC_FLOAT16: t.code = halide_type_float; t.bits = 16; break;
    case MODELC_BFLOAT16: t.code = halide_type_bfloat; t.bits = 16; break;
    case MODELC_INT8: t.code = halide_type_int; t.bits = 8; break;
    case MODELC_UINT8: t.code = halide_type_uint; t.bits = 8; break;
    case MODELC_INT32: t.code = halide_type_int; t.bits = 32; break;
    case MODELC_INT64: t.code = halide_type_int; t.bits = 64; break;
    case MODELC_INT16: t.code = halide_type_int; t.bits = 16; break;
    case MODELC_UINT16: t.code = halide_type_uint; t.bits = 16; break;
    case MODELC_UINT32: t.code = halide_type_uint; t.bits = 32; break;
    case MODELC_UINT64: t.code = halide_type_uint; t.bits = 64; break;
    default: t.code = halide_type_uint; t.bits = 8; break; /* MODELC_BOOL */
  }
  return t;
}

static void mc_describe(halide_buffer_t* b, halide_dimension_t* dims, const mc_tensor* t) {
  /* Halide's dimension 0 is the innermost (last) axis of the C-order tensor. */
  int32_t rank = t->rank > 0 ? t->rank : 1;
  int64_t stride = 1;
  for (int32_t d = 0; d < rank; ++d) {
    int64_t extent = t->rank > 0 ? t->shape[t->rank - 1 - d] : 1;
    dims[d].min = 0;
    dims[d].extent = (int32_t)extent;
    dims[d].stride = (int32_t)stride;
    dims[d].flags = 0;
    stride *= extent;
  }
  memset(b, 0, sizeof(*b));
  b->type = mc_halide_type(t->dtype);
  b->dimensions = rank;
  b->dim = dims;
}

/* The instance's own memory bypasses the scratch cache (it lives as long as the instance). */
static void* mc_zalloc(size_t bytes) {
  void* p = halide_default_malloc(NULL, bytes ? bytes : 1);
  if (p) memset(p, 0, bytes ? bytes : 1);
  return p;
}

static void mc_release(modelc_model* m) {
  if (m->arena) halide_default_free(NULL, m->arena);
  if (m->buffers) halide_default_free(NULL, m->buffers);
  if (m->dims) halide_default_free(NULL, m->dims);
  if (m->args) halide_default_free(NULL, m->args);
  halide_default_free(NULL, m);
}

void mc_destroy(modelc_model* m) {
  int32_t i;
  if (!m) return;
  /* GPU targets: the copies Halide made on the device go first. */
  if (m->buffers)
    for (i = 0; i < m->plan->num_tensors; ++i)
      if (m->buffers[i].device) halide_device_free(NULL, &m->buffers[i]);
  mc_release(m);
  mc_instance_destroyed();
}

modelc_model* mc_create(const mc_plan* plan, int32_t num_threads) {
  modelc_model* m = (modelc_model*)mc_zalloc(sizeof(modelc_model));
  int32_t i, total_args = 0;
  if (!m) return NULL;
  m->plan = plan;
  for (i = 0; i < plan->num_steps; ++i) total_args += plan->steps[i].num_args;
  m->arena = (unsigned char*)mc_zalloc((size_t)plan->api->arena_bytes);
  m->buffers = (halide_buffer_t*)mc_zalloc(sizeof(halide_buffer_t) * (size_t)plan->num_tensors);
  m->dims = (halide_dimension_t*)mc_zalloc(sizeof(halide_dimension_t) * MC_MAX_RANK * (size_t)plan->num_tensors);
  m->args = (void**)mc_zalloc(sizeof(void*) * (size_t)(total_args > 0 ? total_args : 1));
  if (!m->arena || !m->buffers || !m->dims || !m->args) {
    mc_release(m);
    return NULL;
  }
  mc_instance_created();
  for (i = 0; i < plan->num_tensors; ++i) {
    const mc_tensor* t = &plan->tensors[i];
    halide_buffer_t* b = &m->buffers[i];
    mc_describe(b, &m->dims[i * MC_MAX_RANK], t);
    if (t->storage == MC_ARENA) b->host = m->arena + t->offset;
    else if (t->storage == MC_WEIGHTS) b->host = (uint8_t*)(plan->weights + t->offset);
    /* Written by the caller, not by a kernel: a GPU kernel copies them to its device once. */
    if (t->storage == MC_WEIGHTS) b->flags |= halide_buffer_flag_host_dirty;
  }
  for (i = 0; i < total_args; ++i) m->args[i] = &m->buffers[plan->step_args[i]];
  m->parallelism.max_threads = num_threads > 0 ? num_threads : halide_host_cpu_count();
  if (m->parallelism.max_threads < 1) m->parallelism.max_threads = 1;
  mc_reserve_threads(m->parallelism.max_threads);
  m->error[0] = '\0';
  return m;
}

static int mc_find(const modelc_tensor_info* info, int32_t n, const char* name) {
  int32_t i;
  for (i = 0; i < n; ++i)
    if (strcmp(info[i].name, name) == 0) return i;
  return -1;
}

/* Points the tensors of model inputs (or outputs) at the caller's buffers. */
static modelc_status mc_bind(modelc_model* m, int32_t storage, const modelc_tensor_info* info, int32_t n,
                             const modelc_buffer* given, int32_t num_given, void** bound) {
  const mc_plan* plan = m->plan;
  int32_t i;
  const char* what = storage == MC_INPUT ? "input" : "output";
  if (num_given != n) {
    snprintf(m->error, sizeof m->error, "expected %d %s buffers, given %d", (int)n, what, (int)num_given);
    return MODELC_ERROR_ARGUMENT;
  }
  if (n > 0 && !given) {
    snprintf(m->error, sizeof m->error, "the %s buffer array is NULL, expected %d buffers", what, (int)n);
    return MODELC_ERROR_ARGUMENT;
  }
  for (i = 0; i < n; ++i) bound[i] = NULL;
  for (i = 0; i < num_given; ++i) {
    int k;
    if (!given[i].name) {
      snprintf(m->error, sizeof m->error, "%s buffer %d has no name (NULL)", what, (int)i);
      return MODELC_ERROR_ARGUMENT;
    }
    k = mc_find(info, n, given[i].name);
    if (k < 0) {
      snprintf(m->error, sizeof m->error, "unknown %s '%s'", what, given[i].name);
      return MODELC_ERROR_ARGUMENT;
    }
    if (bound[k]) {
      snprintf(m->error, sizeof m->error, "%s '%s' given twice", what, given[i].name);
      return MODELC_ERROR_ARGUMENT;
    }
    if (!given[i].data) {
      snprintf(m->error, sizeof m->error, "%s '%s' has no data (NULL)", what, given[i].name);
      return MODELC_ERROR_ARGUMENT;
    }
    if (given[i].bytes != info[k].bytes) {
      snprintf(m->error, sizeof m->error, "%s '%s' needs %lu bytes, given %lu", what, given[i].name,
               (unsigned long)info[k].bytes, (unsigned long)given[i].bytes);
      return MODELC_ERROR_ARGUMENT;
    }
    bound[k] = given[i].data;
  }
  for (i = 0; i < plan->num_tensors; ++i) {
    if (plan->tensors[i].storage != storage) continue;
    m->buffers[i].host = (uint8_t*)bound[plan->tensors[i].offset];
    /* New input data each run: a device copy from an earlier run is stale. */
    if (storage == MC_INPUT) m->buffers[i].flags = halide_buffer_flag_host_dirty;
  }
  return MODELC_OK;
}

static int mc_is_copied(const mc_plan* plan, int32_t tensor) {
  int32_t i;
  for (i = 0; i < plan->num_copies; ++i)
    if (plan->copies[i].tensor == tensor) return 1;
  return 0;
}

/* Ends a failed run: the Halide error code, and the runtime's message when
 * its error handler kept one. */
static modelc_status mc_kernel_failed(modelc_model* m, const char* what, int32_t index, int rc,
                                      const mc_parallelism* outer, modelc_model* outer_model) {
  char message[sizeof m->error];
  memcpy(message, m->error, sizeof message);
  mc_current = outer;
  mc_running = outer_model;
  if (message[0])
    snprintf(m->error, sizeof m->error, "%s %d failed with Halide error %d: %s", what, (int)index, rc, message);
  else
    snprintf(m->error, sizeof m->error, "%s %d failed with Halide error %d", what, (int)index, rc);
  return MODELC_ERROR_KERNEL;
}

modelc_status mc_run_observed(modelc_model* m, const modelc_buffer* inputs, int32_t num_inputs,
                              const modelc_buffer* outputs, int32_t num_outputs, modelc_step_observer observer,
                              void* user, uint32_t flags) {
  const mc_plan* plan;
  const mc_parallelism* outer;
  modelc_model* outer_model;
  void* in_ptrs[64];
  void* out_ptrs[64];
  int32_t i;
  modelc_status status;
  if (!m) return MODELC_ERROR_ARGUMENT; /* last_error(NULL) says "no model" */
  plan = m->plan;
  if (plan->api->num_inputs > 64 || plan->api->num_outputs > 64) {
    snprintf(m->error, sizeof m->error, "models with more than 64 inputs or outputs are not supported");
    return MODELC_ERROR_ARGUMENT;
  }
  status = mc_bind(m, MC_INPUT, plan->api->inputs, plan->api->num_inputs, inputs, num_inputs, in_ptrs);
  if (status != MODELC_OK) return status;
  status = mc_bind(m, MC_OUTPUT, plan->api->outputs, plan->api->num_outputs, outputs, num_outputs, out_ptrs);
  if (status != MODELC_OK) return status;
  outer = mc_current;
  outer_model = mc_running;
  mc_current = &m->parallelism; /* read by mc_do_par_for while this thread runs the kernels */
  mc_running = m;
  m->error[0] = '\0';
  for (i = 0; i < plan->num_steps; ++i) {
    const mc_step* s = &plan->steps[i];
    int rc;
    if (observer && (flags & MODELC_OBSERVE_IN_PLACE)) {
      rc = s->kernel(&m->args[s->first_arg]);
      if (rc != 0) return mc_kernel_failed(m, "kernel of step", i, rc, outer, outer_model);
    }
    if (observer) observer(user, i, 0);
    rc = s->kernel(&m->args[s->first_arg]);
    if (observer) observer(user, i, 1);
    if (rc != 0) return mc_kernel_failed(m, "kernel of step", i, rc, outer, outer_model);
  }
  /* Results a GPU kernel left on its device, and tensors copied to outputs below. */
  for (i = 0; i < plan->num_tensors; ++i) {
    halide_buffer_t* b = &m->buffers[i];
    if (b->device && (b->flags & halide_buffer_flag_device_dirty) && plan->tensors[i].storage != MC_WEIGHTS) {
      int rc;
      if (plan->tensors[i].storage != MC_OUTPUT && !mc_is_copied(plan, i)) continue;
      rc = halide_copy_to_host(NULL, b);
      if (rc != 0) return mc_kernel_failed(m, "copying from the device, tensor", i, rc, outer, outer_model);
    }
  }
  mc_current = outer;
  mc_running = outer_model;
  for (i = 0; i < plan->num_copies; ++i) {
    const mc_copy* c = &plan->copies[i];
    memcpy(out_ptrs[c->output], m->buffers[c->tensor].host, plan->api->outputs[c->output].bytes);
  }
  m->error[0] = '\0';
  return MODELC_OK;
}

modelc_status mc_run(modelc_model* m, const modelc_buffer* inputs, int32_t num_inputs,
                     const modelc_buffer* outputs, int32_t num_outputs) {
  return mc_run_observed(m, inputs, num_inputs, outputs, num_outputs, NULL, NULL, 0);
}

const char* mc_last_error(const modelc_model* m) { return m ? m->error : "no model"; }
