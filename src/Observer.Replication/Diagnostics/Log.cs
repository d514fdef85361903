using Microsoft.Extensions.Logging;

namespace Observer.Replication;

/// <summary>The engine's log lines, with stable event ids. One Debug line per replicated change; summaries at Information.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "{Folder}: appended primary uid {PrimaryUid} as replica uid {ReplicaUid} ({Size} bytes, md5 {Md5})")]
    public static partial void Appended(ILogger logger, string folder, uint primaryUid, uint replicaUid, long size, string md5);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Debug, Message = "{Folder}: adopted replica uid {ReplicaUid} for primary uid {PrimaryUid} (same md5 {Md5})")]
    public static partial void Adopted(ILogger logger, string folder, uint primaryUid, uint replicaUid, string md5);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Debug, Message = "{Folder}: moved replica uid {SourceUid} from {Source} as uid {ReplicaUid} for primary uid {PrimaryUid}")]
    public static partial void Moved(ILogger logger, string folder, string source, uint sourceUid, uint primaryUid, uint replicaUid);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "{Folder}: flags of primary uid {PrimaryUid} set to ({Flags}) on replica uid {ReplicaUid}")]
    public static partial void FlagsSet(ILogger logger, string folder, uint primaryUid, uint replicaUid, string flags);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Debug, Message = "{Folder}: expunged replica uid {ReplicaUid} (primary uid {PrimaryUid} is gone)")]
    public static partial void Expunged(ILogger logger, string folder, uint primaryUid, uint replicaUid);

    [LoggerMessage(EventId = 2040, Level = LogLevel.Debug, Message = "{Folder}: kept replica uid {ReplicaUid} in the archive (primary uid {PrimaryUid} is gone)")]
    public static partial void Kept(ILogger logger, string folder, uint primaryUid, uint replicaUid);

    [LoggerMessage(EventId = 2041, Level = LogLevel.Information, Message = "folder {Folder} is gone from the primary; the archive keeps it")]
    public static partial void FolderKept(ILogger logger, string folder);

    [LoggerMessage(EventId = 2042, Level = LogLevel.Information, Message = "{Folder}: {Count} messages on the replica are not on the primary; a {Policy} replica leaves them")]
    public static partial void ExtrasLeft(ILogger logger, string folder, int count, string policy);

    [LoggerMessage(EventId = 2043, Level = LogLevel.Information, Message = "{Folder}: {Count} messages came into the replica folder during the pass that it did not write (replica uids {Uids}), perhaps work left in doubt by an earlier pass and carried out late; the next pass reads the replica folder again")]
    public static partial void UnknownArrivals(ILogger logger, string folder, int count, string uids);

    [LoggerMessage(EventId = 2044, Level = LogLevel.Information, Message = "{Folder}: removed {Count} copies that the replica stored twice (replica uids {Uids}): an APPEND or MOVE cut under an earlier pass was carried out late, after this pass had copied its messages again")]
    public static partial void LateDuplicatesRemoved(ILogger logger, string folder, int count, string uids);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Debug, Message = "{Folder}: removed replica uid {ReplicaUid}, which the primary does not have")]
    public static partial void RemovedExtra(ILogger logger, string folder, uint replicaUid);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "{Folder}: the replica refused primary uid {PrimaryUid} ({Reason}); the other messages go on, and it is tried again at the folder's next sync")]
    public static partial void MessageRefused(ILogger logger, string folder, uint primaryUid, string reason);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Warning, Message = "{Folder}: the replica folder cannot hold more keywords ({Reason}); messages are copied without {Keywords}")]
    public static partial void KeywordsDropped(ILogger logger, string folder, string keywords, string reason);

    [LoggerMessage(EventId = 2016, Level = LogLevel.Warning, Message = "{Folder}: the replica keeps some messages {How} ({Reason}); `observer verify` reports them as altered")]
    public static partial void StoredAltered(ILogger logger, string folder, string how, string reason);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Debug, Message = "{Folder}: the primary did not deliver uid {PrimaryUid} (expunged while it was copied, or lost on the way); the folder is read whole next time")]
    public static partial void NotDelivered(ILogger logger, string folder, uint primaryUid);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "{Folder}: {Summary} in {Elapsed} ms")]
    public static partial void FolderSynced(ILogger logger, string folder, string summary, long elapsed);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "{Folder}: UIDVALIDITY changed on the {Side} ({Old} -> {New}); re-mapping by MD5")]
    public static partial void UidValidityChanged(ILogger logger, string folder, string side, uint old, uint @new);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "{Folder}: deletions held back (new mail and flags still replicate): {Reason}")]
    public static partial void DeleteGuardHeld(ILogger logger, string folder, string reason);

    [LoggerMessage(EventId = 2015, Level = LogLevel.Information, Message = "{Folder}: hold released: {Why}")]
    public static partial void HoldReleased(ILogger logger, string folder, string why);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Warning, Message = "{Folder}: in trouble (attempt {Attempts}, retry at {NextAttempt:u}): {Error}")]
    public static partial void FolderTrouble(ILogger logger, string folder, int attempts, DateTimeOffset nextAttempt, string error);

    [LoggerMessage(EventId = 2014, Level = LogLevel.Information, Message = "{Folder}: out of trouble")]
    public static partial void FolderRecovered(ILogger logger, string folder);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Information, Message = "folder {Folder} created on the replica as {ReplicaName}")]
    public static partial void FolderCreated(ILogger logger, string folder, string replicaName);

    [LoggerMessage(EventId = 2021, Level = LogLevel.Information, Message = "folder {OldName} renamed to {NewName} on the replica")]
    public static partial void FolderRenamed(ILogger logger, string oldName, string newName);

    [LoggerMessage(EventId = 2022, Level = LogLevel.Information, Message = "folder {Folder} deleted on the replica")]
    public static partial void FolderDeleted(ILogger logger, string folder);

    [LoggerMessage(EventId = 2023, Level = LogLevel.Debug, Message = "folder {Folder} {Action} on the replica")]
    public static partial void Subscription(ILogger logger, string folder, string action);

    [LoggerMessage(EventId = 2024, Level = LogLevel.Warning, Message = "folder {Folder} is not deleted on the replica: {Reason}")]
    public static partial void FolderDeleteHeld(ILogger logger, string folder, string reason);

    [LoggerMessage(EventId = 2025, Level = LogLevel.Debug, Message = "folder {Folder} is gone from the primary; it is deleted on the replica once gone for {Seconds:0} s")]
    public static partial void FolderDeletePending(ILogger logger, string folder, double seconds);

    [LoggerMessage(EventId = 2030, Level = LogLevel.Information, Message = "pass complete: {Folders} {FolderNoun}, {Summary} in {Elapsed} ms")]
    public static partial void PassComplete(ILogger logger, int folders, string folderNoun, string summary, long elapsed);

    [LoggerMessage(EventId = 2031, Level = LogLevel.Debug, Message = "pass complete: {Folders} {FolderNoun}, {Summary} in {Elapsed} ms")]
    public static partial void PassCompleteQuietly(ILogger logger, int folders, string folderNoun, string summary, long elapsed);

    [LoggerMessage(EventId = 2036, Level = LogLevel.Debug, Message = "journal: pruned {Count} entries finished more than {Days:0.#} days ago")]
    public static partial void JournalPruned(ILogger logger, int count, double days);

    [LoggerMessage(EventId = 2031, Level = LogLevel.Warning, Message = "{Role} connection lost: {Reason}; reconnecting")]
    public static partial void ConnectionLost(ILogger logger, string role, string reason);

    [LoggerMessage(EventId = 2035, Level = LogLevel.Warning, Message = "interrupted: {Reason}; retrying in {Seconds:0.0} s")]
    public static partial void Retrying(ILogger logger, string reason, double seconds);

    [LoggerMessage(EventId = 2032, Level = LogLevel.Information, Message = "connected: primary {Primary} ({PrimaryFeatures}), replica {Replica} ({ReplicaFeatures})")]
    public static partial void Connected(ILogger logger, string primary, string primaryFeatures, string replica, string replicaFeatures);

    [LoggerMessage(EventId = 2033, Level = LogLevel.Information, Message = "watching the primary with {Mode}")]
    public static partial void Watching(ILogger logger, string mode);

    [LoggerMessage(EventId = 2034, Level = LogLevel.Warning, Message = "watcher {Watcher} stopped: {Reason}; restarting")]
    public static partial void WatcherFailed(ILogger logger, string watcher, string reason);

    [LoggerMessage(EventId = 2045, Level = LogLevel.Information, Message = "the NOTIFY session did not report changes that polling found in {Folders}; replacing it with a new session")]
    public static partial void NotifyDeaf(ILogger logger, string folders);

    [LoggerMessage(EventId = 2046, Level = LogLevel.Warning, Message = "NOTIFY on the primary left out changes that polling found in {Folders}, on a new connection too: changes there reach the replica at the next STATUS poll (every {Poll:0} s) instead. Dovecot 2.3 does this once it has found its mailbox list index corrupted (\"Corrupted mailbox list index\" in its log). A new NOTIFY session is tried after {Next:0} s, and less often while they stay deaf")]
    public static partial void NotifyStaysDeaf(ILogger logger, string folders, double poll, double next);

    [LoggerMessage(EventId = 2047, Level = LogLevel.Information, Message = "NOTIFY on the primary reports changes in {Folder} again")]
    public static partial void NotifyHearsAgain(ILogger logger, string folder);

    [LoggerMessage(EventId = 2050, Level = LogLevel.Warning, Message = "split brain: copied back from {Server} to the new primary, {Folder}: {Date:yyyy-MM-dd HH:mm}, from {Sender}, \"{Subject}\", {Size} bytes")]
    public static partial void CopiedBack(ILogger logger, string server, string folder, DateTimeOffset? date, string sender, string subject, long size);
}
