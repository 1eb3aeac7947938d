-- A spec write refuses itself inside its batch when the closure pairs it would add pass the
-- limit: the batch runs as one implicit transaction, and only an error the server raises
-- stops the statements queued after the check. program_limit_exceeded with a message of
-- our own, from a RAISE, is answered as a bad request with that message.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION refuse_closure(pairs bigint, max_pairs bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    IF pairs > max_pairs THEN
        RAISE EXCEPTION 'The spec would add more than % pairs of a spec and one it depends on, counting those it gives the specs stored above and below it', max_pairs
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    RETURN pairs;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION refuse_closure(bigint, bigint);
