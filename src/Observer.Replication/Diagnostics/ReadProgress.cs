using Observer.State;

namespace Observer.Replication;

/// <summary>A comparison's reading of one folder on both servers, told to the meter as it goes (<see cref="ReplicationMetrics.VerifyQueued"/>).</summary>
internal sealed class ReadProgress(ReplicaRecord target, string folder)
{
    public void Started(int messages) => ReplicationMetrics.VerifyQueued.Add(messages, ReplicationMetrics.FolderTags(target, folder));

    public void Read(long bytes)
    {
        var tags = ReplicationMetrics.FolderTags(target, folder);
        ReplicationMetrics.MessagesVerified.Add(1, tags);
        ReplicationMetrics.BytesVerified.Add(bytes, tags);
        ReplicationMetrics.VerifyQueued.Add(-1, tags);
    }

    /// <summary>What was not read (the folder changed under the read, or it failed) is no longer waiting.</summary>
    public void Ended(int unread)
    {
        if (unread > 0) ReplicationMetrics.VerifyQueued.Add(-unread, ReplicationMetrics.FolderTags(target, folder));
    }
}
