"""Long operations as jobs split into chunks, so that any number of workers share them and a
dead worker's chunk is picked up again (DESIGN §11)."""

from django.db import models


class JobKind(models.TextChoices):
    SYNC = "sync", "Sync"
    IMPORT = "import", "Import"
    REEVALUATE = "reevaluate", "Re-evaluation"
    SIMULATE = "simulate", "Simulation"
    ACTIVATE = "activate", "Activation"
    REPLAY = "replay", "Replay"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(models.Model):
    workspace = models.ForeignKey("revorg.Workspace", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=JobKind.choices)
    # Which registered handler runs it (jobs.registry), e.g. "book.accounts_import".
    handler = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    params = models.JSONField(default=dict, blank=True)
    # An uploaded file's text, read by the handler when it splits the job into chunks.
    input_text = models.TextField(blank=True, default="")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "-created_at"]),
            models.Index(fields=["workspace", "handler", "status"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, round(self.progress_done * 100 / self.progress_total))


class ChunkState(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class JobChunk(models.Model):
    """One slice of a job. Its work and its `done` mark commit in one transaction, so a chunk
    takes effect once however often its message is delivered."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=ChunkState.choices, default=ChunkState.PENDING)
    payload = models.JSONField(default=dict, blank=True)
    size = models.PositiveIntegerField(default=0)  # items it counts for in the job's progress
    # Until then the chunk belongs to whoever queued or claimed it; after, the sweeper re-queues.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["job_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="uniq_job_chunk_index")
        ]
        indexes = [models.Index(fields=["state", "lease_expires_at"])]

    def __str__(self) -> str:
        return f"chunk {self.index} of job {self.job_id} ({self.state})"
