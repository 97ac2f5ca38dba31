namespace Crisp.ImageService.Unpack;

/// <summary>Writing an entry into the snapshot failed on the local filesystem (not the layer's fault).</summary>
internal sealed class LayerWriteException(string entryName, Exception inner)
    : Exception($"entry \"{entryName}\": {inner.Message}", inner)
{
    public string EntryName { get; } = entryName;

    public bool OutOfSpace => InnerException is IOException io && (io.HResult & 0xFFFF) == Crisp.Interop.Errno.ENOSPC;
}
