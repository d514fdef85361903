using MailKit;
using MailKit.Net.Imap;
using Observer.Mail;
using System.Security.Cryptography;
using ImapClient = MailKit.Net.Imap.ImapClient;

namespace Observer.MailKit;

/// <summary>
/// A MailKit client whose folders keep fetched message data above <paramref name="threshold"/> bytes
/// in a temporary file instead of memory: MailKit's default holds a 100 MB message (about three times
/// over) in RAM, and Observer may copy several at once. The file is unlinked as soon as it is open, so
/// nothing is left behind even if the process is killed, and only its owner can read it.
/// </summary>
public sealed class SpoolingImapClient(IProtocolLogger protocolLogger, string spoolDirectory, int threshold = SpoolingImapClient.DefaultThreshold)
    : ImapClient(protocolLogger)
{
    public const int DefaultThreshold = 1024 * 1024;

    private long _listing;

    /// <summary>The listing now running, counted by <see cref="BeginListing"/>; see <see cref="SpoolingFolder.StatusListing"/>.</summary>
    public long Listing => Interlocked.Read(ref _listing);

    public long BeginListing() => Interlocked.Increment(ref _listing);

    protected override ImapFolder CreateImapFolder(ImapFolderConstructorArgs args) => new SpoolingFolder(args, spoolDirectory, threshold, this);
}

/// <summary>
/// MailKit's folder, with large fetches spooled to disk, and folders created and renamed by their full
/// names in one command each. MailKit builds a new folder's name from a parent and refuses a name with the
/// delimiter in it; for one command the delimiter is set to a character no name has, so the full name
/// goes out whole, and the server makes any missing parents as it would for any client (\Noselect).
/// </summary>
/// <remarks>
/// Leans on MailKit 4.18.2 using <see cref="MailFolder.DirectorySeparator"/> only to build and check the
/// name: pinned, and checked by the session contract tests in CI.
/// </remarks>
public sealed class SpoolingFolder : ImapFolder
{
    /// <summary>A Unicode noncharacter: never part of a real folder name.</summary>
    private const char NoDelimiter = '\uFFFF';

    private readonly string _directory;
    private readonly int _threshold;

    public SpoolingFolder(ImapFolderConstructorArgs args, string directory, int threshold, SpoolingImapClient owner) : base(args)
    {
        _directory = directory;
        _threshold = threshold;
        // MailKit raises CountChanged for every STATUS with MESSAGES, changed or not, and keeps the last
        // status it had: this says whether one came during a given listing. Hooked from birth, since
        // folders met in a listing are made during it.
        CountChanged += (_, _) => StatusListing = owner.Listing;
    }

    /// <summary>The listing during which this folder's STATUS (or EXISTS) last arrived; 0 if none.</summary>
    public long StatusListing { get; private set; }

    /// <remarks>
    /// A smaller one goes into an array of its exact size, which becomes the body as it is: MailKit's own
    /// stream of small blocks would have to be copied once more, doubling the garbage of every fetch.
    /// </remarks>
    protected override Stream CreateStream(UniqueId? uid, string section, int offset, int length) =>
        DigestsOnly ? new DigestStream()
        : length > _threshold ? new KeptFileStream(TempFileLiteralSpool.CreateUnlinkedFile(_directory, "observer-fetch", WriteBuffer)) : new MemoryStream(length);

    /// <summary>
    /// While set, a fetched literal is hashed and counted as it arrives, and its bytes are kept nowhere (see
    /// <see cref="DigestStream"/>). Set by the session around one FETCH; commands on a session never overlap.
    /// </summary>
    public bool DigestsOnly { get; set; }

    /// <summary>
    /// MailKit copies a literal in pieces of a few KB: unbuffered, each would be a system call of its own.
    /// Under 85,000 bytes, so that a buffer per message is young garbage, not the large-object heap's.
    /// </summary>
    private const int WriteBuffer = 64 * 1024;

    /// <summary>CREATE of <paramref name="fullName"/>, from the root folder (the one whose full name is "").</summary>
    public async Task CreateByFullNameAsync(string fullName, CancellationToken cancellationToken)
    {
        var delimiter = DirectorySeparator;
        DirectorySeparator = NoDelimiter;
        try
        {
            await CreateAsync(fullName, isMessageFolder: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DirectorySeparator = delimiter;
        }
    }

    /// <summary>RENAME of this folder to <paramref name="newFullName"/>, under <paramref name="root"/> (full name "").</summary>
    public async Task RenameToFullNameAsync(IMailFolder root, string newFullName, CancellationToken cancellationToken)
    {
        var delimiter = DirectorySeparator;
        DirectorySeparator = NoDelimiter;
        try
        {
            await RenameAsync(root, newFullName, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DirectorySeparator = delimiter;
        }
    }

    /// <summary>
    /// A literal's MD5 and length, worked out as MailKit writes it, its bytes dropped: a copy read back only to
    /// be checked against what was sent need not be written to disk or held in memory first.
    /// </summary>
    public sealed class DigestStream : Stream
    {
        private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        private long _length;
        private byte[]? _digest;

        /// <summary>The MD5 of every byte written; no byte may be written after it is asked for.</summary>
        public byte[] Md5 => _digest ??= _md5.GetHashAndReset();

        public override bool CanRead => false;
        public override bool CanSeek => true;
        public override bool CanWrite => true;
        public override long Length => _length;

        /// <remarks>MailKit rewinds a literal's stream when it has written it: that is the only move allowed.</remarks>
        public override long Position
        {
            get => _length;
            set
            {
                if (value != 0 && value != _length) throw new NotSupportedException("a digest stream only ever appends");
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_digest is not null) throw new InvalidOperationException("the digest was already taken");
            _md5.AppendData(buffer);
            _length += buffer.Length;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("a digest stream keeps no bytes");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("a digest stream only ever appends");
        public override void SetLength(long value) => throw new NotSupportedException("a digest stream only ever appends");

        protected override void Dispose(bool disposing)
        {
            if (disposing) _md5.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// A spool file that the session can take over as a message's body when MailKit is done with it,
    /// rather than copy a large message once more. It works out the MD5 of the bytes as MailKit writes
    /// them, so that a body hashed for its copy's identity is not read back from disk for that.
    /// </summary>
    public sealed class KeptFileStream(FileStream file) : Stream
    {
        private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        private long _hashed;
        private bool _unhashed;
        private bool _taken;

        private FileStream File { get; } = file;

        /// <summary>Hands the file over, every byte written to it: this stream no longer closes it.</summary>
        /// <returns>The file, and the MD5 of its bytes; null where they were not all written once, in order.</returns>
        public (FileStream File, byte[]? Md5) Take()
        {
            // Its new owner reads through the file's handle, which a write buffer would not have reached.
            File.Flush();
            _taken = true;
            return (File, _unhashed || _hashed != File.Length ? null : _md5.GetHashAndReset());
        }

        /// <summary>Hashes what is written, as long as every write follows the last one.</summary>
        private void Hash(ReadOnlySpan<byte> bytes)
        {
            if (_unhashed) return;
            if (File.Position != _hashed) _unhashed = true;
            else
            {
                _md5.AppendData(bytes);
                _hashed += bytes.Length;
            }
        }

        public override bool CanRead => File.CanRead;
        public override bool CanSeek => File.CanSeek;
        public override bool CanWrite => File.CanWrite;
        public override long Length => File.Length;

        public override long Position
        {
            get => File.Position;
            set => File.Position = value;
        }

        public override void Flush() => File.Flush();
        public override int Read(byte[] buffer, int offset, int count) => File.Read(buffer, offset, count);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => File.ReadAsync(buffer, offset, count, cancellationToken);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => File.ReadAsync(buffer, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => File.Seek(offset, origin);

        public override void SetLength(long value)
        {
            _unhashed = true;
            File.SetLength(value);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Hash(buffer);
            File.Write(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Hash(buffer.Span);
            return File.WriteAsync(buffer, cancellationToken);
        }

        /// <summary>Closes the file unless it was taken over.</summary>
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                if (!_taken) File.Dispose();
                _md5.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
