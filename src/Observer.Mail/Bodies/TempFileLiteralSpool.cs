using Microsoft.Win32.SafeHandles;

namespace Observer.Mail;

/// <summary>
/// Message bodies too large for memory live in files created with mode 0600 and unlinked at once, so
/// that nothing is left behind even if the process is killed, and no other user can read mail from them.
/// </summary>
public static class TempFileLiteralSpool
{
    /// <summary>A body over a spool file written by the IMAP library: it owns the file from now on.</summary>
    /// <param name="md5">The MD5 of the file's bytes, if it was worked out as they were written.</param>
    public static ImapLiteral Adopt(FileStream file, long length, byte[]? md5 = null) => new SpooledLiteral(file, length, md5);

    /// <summary>A new owner-only file in <paramref name="directory"/>, already unlinked where the system allows it.</summary>
    /// <param name="bufferSize">0 for writes straight to the file; a writer that writes in small pieces wants a buffer (then flush before reading through the handle).</param>
    public static FileStream CreateUnlinkedFile(string directory, string prefix, int bufferSize = 0)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{prefix}-{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite | FileShare.Delete,
            Options = FileOptions.DeleteOnClose,
            BufferSize = bufferSize,
        };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var file = new FileStream(path, options);
        if (!OperatingSystem.IsWindows())
            File.Delete(path);
        return file;
    }

    private sealed class SpooledLiteral(FileStream file, long length, byte[]? md5) : ImapLiteral
    {
        public override long Length => length;

        public override byte[]? KnownMd5 => md5;

        public override Stream OpenRead() => new HandleReadStream(file.SafeFileHandle, length);

        protected override void Dispose(bool disposing)
        {
            if (disposing) file.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>A read-only stream over a file handle with its own position, so views are independent.</summary>
    private sealed class HandleReadStream(SafeFileHandle handle, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => _position = Math.Clamp(value, 0, length);
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = RandomAccess.Read(handle, buffer[..(int)Math.Min(buffer.Length, length - _position)], _position);
            _position += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await RandomAccess.ReadAsync(handle, buffer[..(int)Math.Min(buffer.Length, length - _position)], _position, cancellationToken).ConfigureAwait(false);
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
