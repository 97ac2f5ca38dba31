using System.Text;

namespace Crisp.Runtime.IntegrationTests.Streaming;

/// <summary>A write-only client stream that records what a session wrote and lets a test wait for some text.</summary>
internal sealed class CapturingStream : Stream
{
    private readonly MemoryStream _bytes = new();
    private readonly Lock _lock = new();

    public string Text
    {
        get { lock (_lock) return Encoding.UTF8.GetString(_bytes.ToArray()); }
    }

    public async Task WaitForAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Text.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"\"{text}\" did not arrive within {timeout}; got \"{Text}\"");
            await Task.Delay(20);
        }
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        lock (_lock) _bytes.Write(buffer, offset, count);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
