namespace Crisp.ImageService.Unpack;

/// <summary>A tar entry the extractor will not write (it escapes the layer root, or is of an unsupported kind).</summary>
internal sealed class LayerEntryRefusedException(string entryName, string reason) : Exception($"entry \"{entryName}\": {reason}")
{
    public string EntryName { get; } = entryName;
    public string Reason { get; } = reason;
}
