using SparseCircuits.Data;

namespace SparseCircuits.Tasks;

/// <summary>Why a pair cannot be used with a tokenizer.</summary>
public enum DropReason
{
    /// <summary>Encode(prompt) is not a prefix of Encode(prompt + answer): the prompt's end and the answer fuse into one token.</summary>
    PromptBoundary,
    /// <summary>tok and alt begin with the same token, so the two answers cannot be told apart.</summary>
    SameAnswerToken,
    /// <summary>An answer's first token differs between the two prompts.</summary>
    AnswerDependsOnPrompt,
    /// <summary>A prompt is longer than the maximum prompt length.</summary>
    TooLong,
}

/// <summary>Turns a text pair into token ids, checking that each answer starts a new token.</summary>
public static class PairEncoder
{
    /// <summary>
    /// Encodes <paramref name="pair"/>: for both prompts and both answers, Encode(prompt) must be
    /// a prefix of Encode(prompt + answer), and the token after it is the answer id; the ids must
    /// not depend on the prompt, and tok and alt ids must differ. Returns null and the reason
    /// otherwise.
    /// </summary>
    public static EncodedPair? TryEncode(ContrastPair pair, CodeTokenizer tokenizer, TaskDatasetOptions options, out DropReason reason)
    {
        reason = default;
        int[] positive = tokenizer.Encode(pair.Positive), negative = tokenizer.Encode(pair.Negative);
        int extra = options.PrependEndOfText ? 1 : 0;
        if (Math.Max(positive.Length, negative.Length) + extra > options.MaxPromptTokens)
        {
            reason = DropReason.TooLong;
            return null;
        }
        int? tokP = FirstTokenAfter(tokenizer, pair.Positive, positive, pair.Tok);
        int? altN = FirstTokenAfter(tokenizer, pair.Negative, negative, pair.Alt);
        int? altP = FirstTokenAfter(tokenizer, pair.Positive, positive, pair.Alt);
        int? tokN = FirstTokenAfter(tokenizer, pair.Negative, negative, pair.Tok);
        if (tokP is null || altN is null || altP is null || tokN is null)
        {
            reason = DropReason.PromptBoundary;
            return null;
        }
        if (tokP != tokN || altP != altN)
        {
            reason = DropReason.AnswerDependsOnPrompt;
            return null;
        }
        if (tokP == altP)
        {
            reason = DropReason.SameAnswerToken;
            return null;
        }
        if (options.PrependEndOfText)
        {
            positive = [tokenizer.EndOfTextId, .. positive];
            negative = [tokenizer.EndOfTextId, .. negative];
        }
        return new EncodedPair(positive, negative, tokP.Value, altP.Value, pair);
    }

    /// <summary>The first token after <paramref name="promptIds"/> in Encode(prompt + answer), or null when the prompt's encoding is not a prefix.</summary>
    public static int? FirstTokenAfter(CodeTokenizer tokenizer, string prompt, int[] promptIds, string answer)
    {
        int[] full = tokenizer.Encode(prompt + answer);
        if (full.Length <= promptIds.Length || !full.AsSpan(0, promptIds.Length).SequenceEqual(promptIds)) return null;
        return full[promptIds.Length];
    }

    /// <summary>A sentence for reports.</summary>
    public static string Describe(DropReason reason) => reason switch
    {
        DropReason.PromptBoundary => "the prompt's end and the answer fuse into one token, so the answer does not start a new token",
        DropReason.SameAnswerToken => "tok and alt begin with the same token",
        DropReason.AnswerDependsOnPrompt => "an answer's first token differs between the two prompts",
        _ => "a prompt is longer than the maximum prompt length",
    };

    /// <summary>snake_case name for files and JSON.</summary>
    public static string Name(DropReason reason) => reason switch
    {
        DropReason.PromptBoundary => "prompt_boundary",
        DropReason.SameAnswerToken => "same_answer_token",
        DropReason.AnswerDependsOnPrompt => "answer_depends_on_prompt",
        _ => "too_long",
    };
}
