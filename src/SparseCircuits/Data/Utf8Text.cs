using System.Text;
using SparseCircuits.Core;

namespace SparseCircuits.Data;

/// <summary>
/// UTF-8 length of text that must round-trip. An unpaired surrogate has no UTF-8 form; a lenient
/// conversion would quietly put U+FFFD in its place, so training and encoding both refuse it.
/// </summary>
static class Utf8Text
{
    static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static int ByteCount(string text)
    {
        try
        {
            return Strict.GetByteCount(text);
        }
        catch (EncoderFallbackException e)
        {
            char c = e.CharUnknown != '\0' ? e.CharUnknown : e.CharUnknownHigh;
            throw new SparseCircuitsException($"text has an unpaired surrogate U+{(int)c:X4} at index {e.Index}: it has no UTF-8 form, so it cannot be tokenized losslessly");
        }
    }
}
