`timescale 1ns/1ps
`default_nettype none
// Transfer controller (TRANSFER): row by row, all columns of a row in parallel.
//   START  (1 cycle)  xfer_row goes out; the array answers two bits per column:
//                     start_reset -> RESET both devices in this cycle; start_skip -> the
//                     column takes no part in the row. 2PCM+3T1C: both = "target below
//                     the offset" (Ambrogio 2018 ED Fig. 9); PCM-pair refresh: reset =
//                     saturated, skip = not saturated (codesign.devices.transfer).
//   VERIFY (1 cycle)  the array answers err_pos / err_neg / sat for the row; an active
//                     column with neither error is done; no active column -> row ends.
//   PULSE  (1 cycle)  per active column: sat -> RESET both, else err_pos -> SET G+,
//                     else err_neg -> SET G-. After MAX_ITER pulse cycles the row ends
//                     without another verify; otherwise back to VERIFY.
// Row cycles = 1 + verifies + pulses (codesign.cycles.transfer_cycles). After the last
// row the polarity register toggles when POLARITY_INV (Ambrogio et al. 2018).
module tile_xfer #(
    parameter integer ROWS         = 4,
    parameter integer COLS         = 4,
    parameter integer MAX_ITER     = 20,
    parameter integer POLARITY_INV = 1,
    parameter integer RW           = 2,     // width of a row index
    parameter integer CCW          = 3      // width of a column count
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             start,
    input  wire [COLS-1:0]  start_reset,
    input  wire [COLS-1:0]  start_skip,
    input  wire [COLS-1:0]  err_pos,
    input  wire [COLS-1:0]  err_neg,
    input  wire [COLS-1:0]  sat,
    output wire             busy,
    output wire             row_start,
    output wire             verify,
    output wire             pulse,
    output reg  [RW-1:0]    row,
    output wire [COLS-1:0]  set_plus,
    output wire [COLS-1:0]  set_minus,
    output wire [COLS-1:0]  reset_both,
    output reg              polarity,
    output wire [CCW-1:0]   n_verify,   // verify reads this cycle
    output wire [CCW-1:0]   n_set,      // SET pulses this cycle
    output wire [CCW:0]     n_reset     // RESET pulses this cycle (2 per column)
);
    localparam integer IW = $clog2(MAX_ITER + 1);
    localparam integer I_L = MAX_ITER - 1, R_L = ROWS - 1;
    localparam [IW-1:0] I_LAST = I_L[IW-1:0];
    localparam [RW-1:0] R_LAST = R_L[RW-1:0];
    localparam [1:0] S_IDLE = 2'd0, S_START = 2'd1, S_VERIFY = 2'd2, S_PULSE = 2'd3;

    reg [1:0]      st;
    reg [IW-1:0]   iter;
    reg [COLS-1:0] active, sp, sm, rb;

    assign busy      = (st != S_IDLE);
    assign row_start = (st == S_START);
    assign verify    = (st == S_VERIFY);
    assign pulse     = (st == S_PULSE);

    wire [COLS-1:0] still = active & (err_pos | err_neg);   // verify result
    assign set_plus   = pulse ? sp : {COLS{1'b0}};
    assign set_minus  = pulse ? sm : {COLS{1'b0}};
    // start resets happen in the START cycle itself (no cycle of their own)
    assign reset_both = row_start ? start_reset : (pulse ? rb : {COLS{1'b0}});

    wire [CCW-1:0] n_active, n_sets, n_resets;
    tile_popcount #(.WIDTH(COLS), .OUT_W(CCW)) u_pop_act (.bits(active), .count(n_active));
    tile_popcount #(.WIDTH(COLS), .OUT_W(CCW)) u_pop_set (.bits(set_plus | set_minus),
                                                          .count(n_sets));
    tile_popcount #(.WIDTH(COLS), .OUT_W(CCW)) u_pop_rst (.bits(reset_both),
                                                          .count(n_resets));
    assign n_verify = verify ? n_active : {CCW{1'b0}};
    assign n_set    = n_sets;
    assign n_reset  = {n_resets, 1'b0};

    wire row_done = (verify && still == {COLS{1'b0}}) || (pulse && iter == I_LAST);

    always @(posedge clk) begin
        if (rst) begin
            st       <= S_IDLE;
            row      <= {RW{1'b0}};
            iter     <= {IW{1'b0}};
            active   <= {COLS{1'b0}};
            sp       <= {COLS{1'b0}};
            sm       <= {COLS{1'b0}};
            rb       <= {COLS{1'b0}};
            polarity <= 1'b0;
        end else begin
            case (st)
                S_IDLE: if (start) begin
                    st  <= S_START;
                    row <= {RW{1'b0}};
                end
                S_START: begin
                    active <= ~start_skip;
                    iter   <= {IW{1'b0}};
                    st     <= S_VERIFY;
                end
                S_VERIFY: if (!row_done) begin
                    active <= still;
                    sp     <= still & ~sat & err_pos;
                    sm     <= still & ~sat & ~err_pos & err_neg;
                    rb     <= still & sat;
                    st     <= S_PULSE;
                end
                default: begin                          // S_PULSE
                    iter <= iter + 1'b1;
                    if (!row_done) st <= S_VERIFY;
                end
            endcase
            if (row_done) begin
                if (row == R_LAST) begin
                    st <= S_IDLE;
                    if (POLARITY_INV != 0) polarity <= ~polarity;
                end else begin
                    row <= row + 1'b1;
                    st  <= S_START;
                end
            end
        end
    end
endmodule
`default_nettype wire
