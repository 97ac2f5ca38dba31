namespace Crisp.Runtime.Handlers;

/// <summary>
/// Reads back a CRI (k8s-file) log written by conmon — "&lt;time&gt; &lt;stdout|stderr&gt; &lt;F|P&gt; &lt;bytes&gt;\n" —
/// into the original byte streams: F lines ended with a newline, P lines are partial. Each stream is capped.
/// </summary>
internal static class CriLogParser
{
    public static (byte[] Stdout, byte[] Stderr) Read(string path, int capBytes)
    {
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        if (!File.Exists(path)) return ([], []);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 64 * 1024);
        var line = new MemoryStream();
        int b;
        while ((b = stream.ReadByte()) >= 0)
        {
            if (b != '\n') { line.WriteByte((byte)b); continue; }
            Append(line.GetBuffer().AsSpan(0, (int)line.Length), stdout, stderr, capBytes);
            line.SetLength(0);
        }
        if (line.Length > 0) Append(line.GetBuffer().AsSpan(0, (int)line.Length), stdout, stderr, capBytes);
        return (stdout.ToArray(), stderr.ToArray());
    }

    private static void Append(ReadOnlySpan<byte> line, MemoryStream stdout, MemoryStream stderr, int cap)
    {
        // Skip the timestamp, then read the stream name and the tag.
        var s1 = line.IndexOf((byte)' ');
        if (s1 < 0) return;
        var rest = line[(s1 + 1)..];
        var s2 = rest.IndexOf((byte)' ');
        if (s2 < 0) return;
        var streamName = rest[..s2];
        rest = rest[(s2 + 1)..];
        var s3 = rest.IndexOf((byte)' ');
        var tag = s3 < 0 ? rest : rest[..s3];
        var content = s3 < 0 ? ReadOnlySpan<byte>.Empty : rest[(s3 + 1)..];
        var target = streamName.SequenceEqual("stderr"u8) ? stderr : streamName.SequenceEqual("stdout"u8) ? stdout : null;
        if (target is null) return;
        Write(target, content, cap);
        if (tag.Length > 0 && tag[0] == (byte)'F') Write(target, "\n"u8, cap);
    }

    private static void Write(MemoryStream target, ReadOnlySpan<byte> bytes, int cap)
    {
        var room = cap - (int)target.Length;
        if (room <= 0) return;
        target.Write(bytes[..Math.Min(room, bytes.Length)]);
    }
}
